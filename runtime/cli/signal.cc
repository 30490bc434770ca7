#include "runtime/cli/signal.h"

#include <csignal>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/base/status.h"

namespace husk::cli {
namespace {

struct SignalName {
  absl::string_view name;  // without "SIG"
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

// The real-time range as programs see it: glibc reserves 32 and 33 for its threads, so
// SIGRTMIN is 34 (also what bash's `kill -l` and runc's signal table say).
constexpr int kRtMin = 34;
constexpr int kRtMax = 64;

absl::Status Unknown(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("unknown signal ", Quote(text)));
}

}  // namespace

absl::StatusOr<int> ParseSignal(absl::string_view text) {
  int number = 0;
  if (!text.empty() && absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) {
    // 0 is kill(2)'s existence check: nothing is sent (runc accepts it too).
    if (!absl::SimpleAtoi(text, &number) || number < 0 || number > kRtMax) {
      return Unknown(text);
    }
    return number;
  }
  std::string name = absl::AsciiStrToUpper(text);
  absl::string_view bare = name;
  absl::ConsumePrefix(&bare, "SIG");
  for (const SignalName& signal : kSignals) {
    if (signal.name == bare) return signal.number;
  }
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n.
  for (auto [prefix, base, sign] :
       {std::tuple{"RTMIN", kRtMin, 1}, std::tuple{"RTMAX", kRtMax, -1}}) {
    absl::string_view rest = bare;
    if (!absl::ConsumePrefix(&rest, prefix)) continue;
    if (rest.empty()) return base;
    int offset = 0;
    if (!absl::ConsumePrefix(&rest, sign > 0 ? "+" : "-") || !absl::SimpleAtoi(rest, &offset) ||
        offset < 0 || offset > kRtMax - kRtMin) {
      return Unknown(text);
    }
    return base + sign * offset;
  }
  return Unknown(text);
}

}  // namespace husk::cli
