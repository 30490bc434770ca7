// DeviceState -> eBPF cgroup device program; loading and attaching it with bpf(2).
#include "runtime/kernel/cgroups/device_bpf.h"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "runtime/base/status.h"

namespace husk::kernel::cgroups {
namespace {

// The program sees one request as struct bpf_cgroup_dev_ctx, pointed to by R1:
//   offset 0: u32 access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
//   offset 4: u32 major
//   offset 8: u32 minor
// The prologue splits access_type with a shift and a mask (not 16-bit loads, whose offset
// would depend on endianness) and keeps everything in registers the body only reads:
constexpr uint8_t kScratch = BPF_REG_1;  // the ctx pointer until the prologue is done
constexpr uint8_t kType = BPF_REG_2;     // BPF_DEVCG_DEV_BLOCK or BPF_DEVCG_DEV_CHAR
constexpr uint8_t kAccess = BPF_REG_3;   // BPF_DEVCG_ACC_* bits of the request
constexpr uint8_t kMajor = BPF_REG_4;
constexpr uint8_t kMinor = BPF_REG_5;
// All ALU and compare instructions are 32-bit (BPF_ALU, BPF_JMP32): every value is a u32,
// so an immediate is compared as one, never sign-extended to 64 bits.

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst;
  insn.src_reg = src;
  insn.off = off;
  insn.imm = imm;
  return insn;
}

// Appends instructions; jumps "to the next block" are patched when the block ends.
class Emitter {
 public:
  void LoadCtxWord(uint8_t dst, int16_t offset) {
    Add(Insn(BPF_LDX | BPF_MEM | BPF_W, dst, kScratch, offset, 0));
  }
  void MovReg(uint8_t dst, uint8_t src) { Add(Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)); }
  void AluImm(uint8_t op, uint8_t dst, uint32_t imm) {
    Add(Insn(BPF_ALU | op | BPF_K, dst, 0, 0, static_cast<int32_t>(imm)));
  }
  // if (dst <op> imm) goto next block
  void SkipIfImm(uint8_t op, uint8_t dst, uint32_t imm) {
    pending_.push_back(Add(Insn(BPF_JMP32 | op | BPF_K, dst, 0, 0, static_cast<int32_t>(imm))));
  }
  // if (dst <op> src) goto next block
  void SkipIfReg(uint8_t op, uint8_t dst, uint8_t src) {
    pending_.push_back(Add(Insn(BPF_JMP32 | op | BPF_X, dst, src, 0, 0)));
  }
  void Return(bool allow) {
    AluImm(BPF_MOV, BPF_REG_0, allow ? 1 : 0);
    Add(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  }
  // The next instruction starts a new block: pending skips land on it.
  void EndBlock() {
    for (size_t at : pending_) {
      // Offsets count from the instruction after the jump.
      insns_[at].off = static_cast<int16_t>(insns_.size() - at - 1);
    }
    pending_.clear();
  }
  std::vector<bpf_insn> Finish() && { return std::move(insns_); }

 private:
  size_t Add(bpf_insn insn) {
    insns_.push_back(insn);
    return insns_.size() - 1;
  }
  std::vector<bpf_insn> insns_;
  std::vector<size_t> pending_;
};

// DeviceAccess bits (r=1, w=2, m=4) -> BPF_DEVCG_ACC_* (m=1, r=2, w=4).
uint32_t BpfAccess(uint8_t access) {
  return ((access & kDevRead) ? BPF_DEVCG_ACC_READ : 0) |
         ((access & kDevWrite) ? BPF_DEVCG_ACC_WRITE : 0) |
         ((access & kDevMknod) ? BPF_DEVCG_ACC_MKNOD : 0);
}

long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

uint64_t Ptr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// "bpf \"BPF_PROG_ATTACH\": Operation not permitted", from errno.
absl::Status BpfError(absl::string_view command) {
  int err = errno;
  return ErrnoError(err, absl::StrCat("bpf ", Quote(command)));
}

struct Attached {
  uint32_t flags = 0;  // BPF_F_ALLOW_MULTI, BPF_F_ALLOW_OVERRIDE or 0 (a single slot)
  std::vector<uint32_t> ids;
};

// The device programs attached to the cgroup itself (not inherited ones).
absl::StatusOr<Attached> QueryAttached(int cgroup_dir_fd) {
  std::vector<uint32_t> ids(8);
  for (;;) {
    bpf_attr attr{};
    attr.query.target_fd = cgroup_dir_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = Ptr(ids.data());
    attr.query.prog_cnt = ids.size();
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return Attached{attr.query.attach_flags, std::move(ids)};
    }
    // Too small a buffer: prog_cnt now holds the number attached.
    if (errno != ENOSPC || attr.query.prog_cnt <= ids.size()) return BpfError("BPF_PROG_QUERY");
    ids.resize(attr.query.prog_cnt);
  }
}

absl::StatusOr<uint32_t> ProgramId(int prog_fd) {
  bpf_prog_info info{};
  bpf_attr attr{};
  attr.info.bpf_fd = prog_fd;
  attr.info.info_len = sizeof(info);
  attr.info.info = Ptr(&info);
  if (Bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) != 0) return BpfError("BPF_OBJ_GET_INFO_BY_FD");
  return info.id;
}

absl::Status Attach(int cgroup_dir_fd, int prog_fd, uint32_t flags) {
  bpf_attr attr{};
  attr.target_fd = cgroup_dir_fd;
  attr.attach_bpf_fd = prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = flags;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) return BpfError("BPF_PROG_ATTACH");
  return absl::OkStatus();
}

// Detaches program `id` from the cgroup; one that is gone already is fine.
absl::Status DetachById(int cgroup_dir_fd, uint32_t id) {
  bpf_attr get{};
  get.prog_id = id;
  UniqueFd fd(static_cast<int>(Bpf(BPF_PROG_GET_FD_BY_ID, &get)));
  if (!fd.valid()) {
    if (errno == ENOENT) return absl::OkStatus();
    return BpfError("BPF_PROG_GET_FD_BY_ID");
  }
  bpf_attr attr{};
  attr.target_fd = cgroup_dir_fd;
  attr.attach_bpf_fd = fd.get();
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) != 0 && errno != ENOENT) return BpfError("BPF_PROG_DETACH");
  return absl::OkStatus();
}

}  // namespace

std::vector<bpf_insn> DeviceProgram(const DeviceState& state) {
  Emitter e;
  e.LoadCtxWord(kType, offsetof(bpf_cgroup_dev_ctx, access_type));
  e.MovReg(kAccess, kType);
  e.AluImm(BPF_RSH, kAccess, 16);
  e.AluImm(BPF_AND, kType, 0xffff);
  e.LoadCtxWord(kMajor, offsetof(bpf_cgroup_dev_ctx, major));
  e.LoadCtxWord(kMinor, offsetof(bpf_cgroup_dev_ctx, minor));
  for (const DeviceRule& ex : state.exceptions) {
    if (ex.type != 'a') {
      e.SkipIfImm(BPF_JNE, kType, ex.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    }
    if (ex.major >= 0) e.SkipIfImm(BPF_JNE, kMajor, static_cast<uint32_t>(ex.major));
    if (ex.minor >= 0) e.SkipIfImm(BPF_JNE, kMinor, static_cast<uint32_t>(ex.minor));
    e.MovReg(kScratch, kAccess);
    e.AluImm(BPF_AND, kScratch, BpfAccess(ex.access));
    if (state.default_allow) {
      e.SkipIfImm(BPF_JEQ, kScratch, 0);  // a deny exception needs one shared bit
    } else {
      e.SkipIfReg(BPF_JNE, kScratch, kAccess);  // an allow exception must cover them all
    }
    e.Return(!state.default_allow);
    e.EndBlock();
  }
  e.Return(state.default_allow);
  return std::move(e).Finish();
}

absl::StatusOr<UniqueFd> LoadDeviceProgram(const std::vector<bpf_insn>& insns) {
  // The program calls no helper, so no GPL-compatible license is required.
  static constexpr char kLicense[] = "Apache-2.0";
  std::string log;
  for (int attempt = 0;; ++attempt) {
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = Ptr(insns.data());
    attr.insn_cnt = insns.size();
    attr.license = Ptr(kLicense);
    absl::string_view name = "husk_devices";
    std::copy(name.begin(), name.end(), attr.prog_name);
    // The first try goes without a log (a short buffer could itself fail the load); the
    // retry after a refusal asks the verifier why.
    if (attempt > 0) {
      log.assign(64 * 1024, '\0');
      attr.log_level = 1;
      attr.log_buf = Ptr(log.data());
      attr.log_size = log.size();
    }
    int fd = static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
    if (fd >= 0) return UniqueFd(fd);
    int err = errno;
    if (err == EAGAIN && attempt < 5) continue;
    if (attempt == 0 && (err == EINVAL || err == EACCES)) continue;  // verifier refusals
    std::string message = absl::StrCat("bpf ", Quote("BPF_PROG_LOAD"), ": ", ErrnoText(err));
    log.resize(log.find('\0') == std::string::npos ? log.size() : log.find('\0'));
    while (!log.empty() && log.back() == '\n') log.pop_back();
    if (!log.empty()) absl::StrAppend(&message, ": verifier log: ", log);
    return StatusWithErrno(err, message);
  }
}

absl::StatusOr<std::vector<uint32_t>> AttachedDevicePrograms(int cgroup_dir_fd) {
  ASSIGN_OR_RETURN(Attached attached, QueryAttached(cgroup_dir_fd));
  return std::move(attached.ids);
}

absl::Status AttachDeviceProgram(int cgroup_dir_fd, int prog_fd) {
  ASSIGN_OR_RETURN(Attached old, QueryAttached(cgroup_dir_fd));
  ASSIGN_OR_RETURN(uint32_t id, ProgramId(prog_fd));
  bool present = std::find(old.ids.begin(), old.ids.end(), id) != old.ids.end();
  if (!old.ids.empty() && !(old.flags & BPF_F_ALLOW_MULTI)) {
    // A single slot (someone attached without BPF_F_ALLOW_MULTI): attaching with the
    // same flags swaps the program in one step.
    return present ? absl::OkStatus() : Attach(cgroup_dir_fd, prog_fd, old.flags);
  }
  if (!present) RETURN_IF_ERROR(Attach(cgroup_dir_fd, prog_fd, BPF_F_ALLOW_MULTI));
  // Only now, with the new program in force, may the old ones go.
  for (uint32_t old_id : old.ids) {
    if (old_id != id) RETURN_IF_ERROR(DetachById(cgroup_dir_fd, old_id));
  }
  return absl::OkStatus();
}

}  // namespace husk::kernel::cgroups
