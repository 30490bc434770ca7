// The one channel between `husk create` (parent) and the container's first processes:
// a SOCK_SEQPACKET socketpair carrying typed, size-checked messages, each with an optional
// errno, a 64-bit value, a short text and at most one fd. Both processes.
//
// Message sequence (P = parent, S = stage child, I = init; S and I are the same process
// unless namespaces must be joined by path or a time namespace is created):
//
//   P                                   S / I
//   clone3 ─────────────────────────────▶ join cgroups (write 0 to tasks)
//                                         [setns joined namespaces; unshare user ns]
//        ◀──────────────── kIdMapRequest  (only with a new user namespace)
//   write uid_map/gid_map
//        kIdMapDone ──────────────────▶
//                                         [unshare the rest; write time offsets:
//        ◀─────────────── kTimeRequest     P writes them, replies kTimeDone]
//                                         [S forks I with CLONE_PARENT]
//        ◀──────────────────── kInitPid   (S, value = host pid of I; S exits)
//                                         I: mounts, devices
//        ◀──────────────── kCreateHooks   (prestart/createRuntime configured: P runs them
//   run prestart, createRuntime hooks      in the runtime namespaces with the init's
//        kCreateHooksDone ────────────▶    host pid; on failure P sends kError instead)
//                                         I: createContainer hooks, pivot_root, console...
//        ◀──────────── kConsole + fd      (terminal: the pty master)
//        ◀─── kSeccompListener + fd       (SCMP_ACT_NOTIFY: the notify fd, right after
//   send it + the state to the agent       the filter is loaded; I waits until the
//        kSeccompDone ────────────────▶    agent has it)
//        ◀────────────────────── kReady   I waits on exec.sock for `start`
//   any step may instead send kError (errno + text) and _exit(1).
#ifndef HUSK_RUNTIME_PROCESS_SYNC_CHANNEL_H_
#define HUSK_RUNTIME_PROCESS_SYNC_CHANNEL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"

namespace husk::process {

enum class MsgType : uint32_t {
  kError = 1,
  kIdMapRequest,
  kIdMapDone,
  kTimeRequest,
  kTimeDone,
  kInitPid,
  kConsole,
  kReady,
  kSeccompListener,
  kSeccompDone,
  kCreateHooks,
  kCreateHooksDone,
  kLast = kCreateHooksDone,
};

struct Message {
  MsgType type = MsgType::kError;
  int32_t err = 0;
  int64_t value = 0;
  std::string text;
  UniqueFd fd;
};

inline constexpr size_t kMaxText = 4096;

class SyncChannel {
 public:
  static absl::StatusOr<std::pair<SyncChannel, SyncChannel>> Pair();
  SyncChannel() = default;
  explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }
  void Close() { fd_.Reset(); }

  absl::Status Send(MsgType type, int64_t value = 0, absl::string_view text = {},
                    int err = 0, int pass_fd = -1) const;
  // Blocks. NotFound ("channel closed") on EOF: the peer died without a word.
  absl::StatusOr<Message> Receive() const;
  // Receive() that fails unless the message has type `want` (kError becomes its status).
  absl::StatusOr<Message> Expect(MsgType want) const;

 private:
  UniqueFd fd_;
};

// The status carried by a kError message, keeping the errno payload.
absl::Status ErrorFromMessage(const Message& message);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_SYNC_CHANNEL_H_
