// The runtime-spec state document (runtime.md "State", cli-contract.md §2.3) as printed
// by `state` and `list --format json`, and as piped to hooks. Serialisation only: the
// state store (runtime/state) decides the values. Pure; any process may call.
#ifndef HUSK_SPEC_STATE_H_
#define HUSK_SPEC_STATE_H_

#include <map>
#include <string>
#include <vector>

namespace husk::spec {

struct StateDoc {
  std::string oci_version;
  std::string id;
  std::string status;  // creating | created | running | paused | stopped
  int pid = 0;         // Always printed; 0 once stopped, like runc and crun.
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds; go-runc parses it as a Go time.
  std::string owner;    // "" for `state`, the user name for `list`.
  std::map<std::string, std::string> annotations;  // Omitted when empty.
};

// runc's `state` output: two-space indented JSON, keys in the order ociVersion, id, pid,
// status, bundle, rootfs, created, owner, annotations; no trailing newline.
std::string SerializeState(const StateDoc& state);

// `list --format json`: a compact JSON array of the same objects, or "null" when there
// are none (runc prints a nil Go slice). No trailing newline.
std::string SerializeStateList(const std::vector<StateDoc>& states);

// What a hook reads on stdin (runtime.md "State"): compact JSON with only the state
// fields (ociVersion, id, pid, status, bundle, annotations); pid is left out when
// `with_pid` is false, as for poststop hooks (the process is gone).
std::string SerializeHookState(const StateDoc& state, bool with_pid);

// What a seccomp agent receives with the notify fd (config-linux.md "The Container
// Process State"): compact JSON whose `state` has only runtime.md's state fields
// (ociVersion, id, status, pid, bundle, annotations). `fds` names the SCM_RIGHTS fds.
struct ContainerProcessState {
  std::string oci_version;
  std::vector<std::string> fds;
  int pid = 0;
  std::string metadata;  // omitted when empty
  StateDoc state;
};
std::string SerializeContainerProcessState(const ContainerProcessState& state);

}  // namespace husk::spec

#endif  // HUSK_SPEC_STATE_H_
