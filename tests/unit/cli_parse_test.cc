// ParseCommandLine, ScanFlags, ParseSignal and PreScanLog: runc's grammar as callers use it
// (cli-contract.md §1, §2).
#include <csignal>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/flags.h"
#include "runtime/cli/exec_flags.h"
#include "runtime/cli/parse.h"
#include "runtime/cli/signal.h"

namespace husk::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ParseEnv TestEnv() {
  ParseEnv env;
  env.cwd = "/work/dir";
  env.euid = 0;
  return env;
}

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args, TestEnv());
}

std::string ErrorOf(std::vector<std::string> args) {
  absl::StatusOr<Invocation> inv = Parse(std::move(args));
  EXPECT_FALSE(inv.ok());
  return inv.ok() ? "" : std::string(inv.status().message());
}

// --- flag forms -------------------------------------------------------------------------

TEST(CliParse, ValueFlagForms) {
  for (std::vector<std::string> args : {
           std::vector<std::string>{"create", "--bundle", "/b", "c1"},
           std::vector<std::string>{"create", "--bundle=/b", "c1"},
           std::vector<std::string>{"create", "-bundle", "/b", "c1"},
           std::vector<std::string>{"create", "-bundle=/b", "c1"},
           std::vector<std::string>{"create", "-b", "/b", "c1"},
           std::vector<std::string>{"create", "--b=/b", "c1"},
       }) {
    absl::StatusOr<Invocation> inv = Parse(args);
    ASSERT_TRUE(inv.ok()) << args[1] << ": " << inv.status();
    EXPECT_EQ(inv->command, Command::kCreate);
    EXPECT_EQ(inv->run.create.bundle, "/b") << args[1];
    EXPECT_EQ(inv->run.create.id, "c1");
    EXPECT_EQ(inv->id, "c1");
  }
}

TEST(CliParse, SingleDashLongBoolean) {
  // go-runc's restore path passes -no-subreaper literally.
  absl::StatusOr<Invocation> inv = Parse({"run", "-no-subreaper", "-detach", "-keep", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->run.no_subreaper);
  EXPECT_TRUE(inv->run.detach);
  EXPECT_TRUE(inv->run.keep);
  EXPECT_TRUE(Parse({"create", "-no-subreaper", "c1"}).ok());
}

TEST(CliParse, BooleanValues) {
  auto detach = [](std::string flag) {
    absl::StatusOr<Invocation> inv = Parse({"run", flag, "c1"});
    EXPECT_TRUE(inv.ok()) << flag << ": " << inv.status();
    return inv.ok() && inv->run.detach;
  };
  EXPECT_TRUE(detach("--detach"));
  EXPECT_TRUE(detach("-d"));
  EXPECT_TRUE(detach("--detach=true"));
  EXPECT_TRUE(detach("-d=1"));
  EXPECT_FALSE(detach("--detach=false"));
  EXPECT_FALSE(detach("--detach=0"));
  EXPECT_THAT(ErrorOf({"run", "--detach=maybe", "c1"}),
              HasSubstr("invalid boolean value \"maybe\" for -detach"));
}

TEST(CliParse, BooleanNeverTakesNextArgument) {
  // `--force false`: "false" is a positional, so delete gets two arguments.
  EXPECT_THAT(ErrorOf({"delete", "--force", "false", "c1"}),
              HasSubstr("\"delete\" requires exactly 1 argument(s)"));
}

TEST(CliParse, RepeatedFlagsLastWins) {
  absl::StatusOr<Invocation> inv =
      Parse({"--root", "/r1", "--root=/r2", "--log", "/a", "--log", "/b", "create", "--pid-file",
             "/p1", "-pid-file=/p2", "--no-pivot", "--no-pivot", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->global.root, "/r2");
  EXPECT_EQ(inv->log.path, "/b");
  EXPECT_EQ(inv->run.create.pid_file, "/p2");
  EXPECT_TRUE(inv->run.create.no_pivot);
  // A later =false overrides an earlier true.
  inv = Parse({"delete", "-f", "--force=false", "c1"});
  ASSERT_TRUE(inv.ok());
  EXPECT_FALSE(inv->force);
}

TEST(CliParse, ValueTakenVerbatimEvenWithDash) {
  absl::StatusOr<Invocation> inv = Parse({"create", "--pid-file", "-odd", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->run.create.pid_file, "/work/dir/-odd");
}

TEST(CliParse, FlagErrors) {
  EXPECT_EQ(ErrorOf({"create", "--bogus", "c1"}), "flag provided but not defined: -bogus");
  EXPECT_EQ(ErrorOf({"--bogus", "state", "c1"}), "flag provided but not defined: -bogus");
  EXPECT_EQ(ErrorOf({"create", "c1", "--bundle"}), "flag needs an argument: -bundle");
  EXPECT_THAT(ErrorOf({"create", "---x", "c1"}), HasSubstr("bad flag syntax"));
  // Short aliases belong to their command: -f is --force on delete, not on create.
  EXPECT_EQ(ErrorOf({"create", "-f", "x", "c1"}), "flag provided but not defined: -f");
}

TEST(CliParse, DoubleDashEndsFlags) {
  absl::StatusOr<Invocation> inv = Parse({"kill", "--", "c1", "KILL"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->signal, SIGKILL);
  inv = Parse({"state", "--", "-x"});  // '-' is a valid ID character
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->id, "-x");
}

// --- global flags ----------------------------------------------------------------------

TEST(CliParse, GlobalDefaults) {
  absl::StatusOr<Invocation> inv = Parse({"state", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kState);
  EXPECT_EQ(inv->global.root, "/run/husk");
  EXPECT_FALSE(inv->global.systemd_cgroup);
  EXPECT_EQ(inv->global.rootless, "auto");
  EXPECT_EQ(inv->log.path, "");
  EXPECT_EQ(inv->log.format, log::Format::kText);
  EXPECT_FALSE(inv->log.debug);
}

TEST(CliParse, ContainerdGlobalFlags) {
  absl::StatusOr<Invocation> inv = Parse({"--root",
                                          "/run/containerd/runc/k8s.io",
                                          "--log",
                                          "/b/log.json",
                                          "--log-format",
                                          "json",
                                          "--criu",
                                          "/usr/sbin/criu",
                                          "--systemd-cgroup",
                                          "--rootless=false",
                                          "create",
                                          "--bundle",
                                          "/b",
                                          "--pid-file",
                                          "/b/init.pid",
                                          "--console-socket",
                                          "rel/pty.sock",
                                          "--no-pivot",
                                          "--no-new-keyring",
                                          "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->global.root, "/run/containerd/runc/k8s.io");
  EXPECT_EQ(inv->log.path, "/b/log.json");
  EXPECT_EQ(inv->log.format, log::Format::kJson);
  EXPECT_TRUE(inv->global.systemd_cgroup);
  EXPECT_EQ(inv->global.rootless, "false");
  const CreateOptions& create = inv->run.create;
  EXPECT_EQ(create.bundle, "/b");
  EXPECT_EQ(create.pid_file, "/b/init.pid");
  EXPECT_EQ(create.console_socket, "rel/pty.sock");  // never lengthened (sun_path)
  EXPECT_TRUE(create.no_pivot);
  EXPECT_TRUE(create.no_new_keyring);
  EXPECT_EQ(create.preserve_fds, 0);
}

TEST(CliParse, PodmanStyleEqualsForms) {
  absl::StatusOr<Invocation> inv =
      Parse({"--log-format=json", "--log", "/run/x/oci-log", "--cgroup-manager", "cgroupfs",
             "create", "--bundle", "/b", "--pid-file", "/p", "--preserve-fds", "2", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->log.format, log::Format::kJson);
  EXPECT_EQ(inv->run.create.preserve_fds, 2);
  EXPECT_FALSE(inv->global.systemd_cgroup);
}

TEST(CliParse, RootMadeAbsolute) {
  absl::StatusOr<Invocation> inv = Parse({"--root", "state-dir/./x/../y", "list"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->global.root, "/work/dir/state-dir/y");
  EXPECT_THAT(ErrorOf({"--root=", "list"}), HasSubstr("must not be empty"));
}

TEST(CliParse, BundleAndPidFileRelativeToCwd) {
  absl::StatusOr<Invocation> inv = Parse({"create", "--pid-file", "p.pid", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->run.create.bundle, "/work/dir");
  EXPECT_EQ(inv->run.create.pid_file, "/work/dir/p.pid");
}

TEST(CliParse, DefaultRootRules) {
  ParseEnv env = TestEnv();
  env.xdg_runtime_dir = "/run/user/1000";
  EXPECT_EQ(DefaultRoot(env), "/run/husk");  // real root ignores XDG
  env.euid = 1000;
  EXPECT_EQ(DefaultRoot(env), "/run/user/1000/husk");
  env.euid = 0;
  env.in_user_namespace = true;  // rootless podman: euid 0 in its userns, no USER
  EXPECT_EQ(DefaultRoot(env), "/run/user/1000/husk");
  env.user = "root";
  EXPECT_EQ(DefaultRoot(env), "/run/husk");
  env.euid = 1000;
  env.xdg_runtime_dir = "";  // rootful podman sets it empty: same as unset
  EXPECT_EQ(DefaultRoot(env), "/run/husk");
}

TEST(CliParse, InvalidLogFormat) {
  EXPECT_THAT(ErrorOf({"--log-format", "xml", "state", "c1"}), HasSubstr("invalid log-format"));
}

TEST(CliParse, Rootless) {
  for (auto [arg, want] : {std::pair{"--rootless=true", "true"},
                           {"--rootless=1", "true"},
                           {"--rootless=false", "false"},
                           {"--rootless=auto", "auto"}}) {
    absl::StatusOr<Invocation> inv = Parse({arg, "list"});
    ASSERT_TRUE(inv.ok()) << arg;
    EXPECT_EQ(inv->global.rootless, want) << arg;
  }
  absl::StatusOr<Invocation> inv = Parse({"--rootless", "true", "list"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->global.rootless, "true");
  EXPECT_THAT(ErrorOf({"--rootless=maybe", "list"}), HasSubstr("invalid --rootless value"));
}

TEST(CliParse, CgroupManager) {
  absl::StatusOr<Invocation> inv = Parse({"--cgroup-manager=systemd", "list"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->global.systemd_cgroup);
  EXPECT_THAT(ErrorOf({"--cgroup-manager", "disabled", "list"}), HasSubstr("not supported yet"));
  EXPECT_THAT(ErrorOf({"--cgroup-manager", "foo", "list"}), HasSubstr("invalid --cgroup-manager"));
}

TEST(CliParse, VersionAndHelp) {
  for (std::string flag : {"-v", "--version", "-version", "--version=true"}) {
    absl::StatusOr<Invocation> inv = Parse({flag});
    ASSERT_TRUE(inv.ok()) << flag;
    EXPECT_EQ(inv->command, Command::kVersion) << flag;
  }
  absl::StatusOr<Invocation> inv = Parse({"-h"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kHelp);
  EXPECT_FALSE(inv->help_to_stderr);

  inv = Parse({});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kHelp);
  EXPECT_TRUE(inv->help_to_stderr);

  inv = Parse({"create", "--help"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kHelp);
  EXPECT_EQ(inv->help_topic, "create");
  EXPECT_THAT(UsageText("create"), HasSubstr("--pid-file"));

  inv = Parse({"help", "kill"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->help_topic, "kill");
  EXPECT_THAT(UsageText(""), HasSubstr("features"));

  inv = Parse({"h", "help"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->help_topic, "help");
}

TEST(CliParse, HelpForAnUnknownTopic) {
  for (std::vector<std::string> args : {std::vector<std::string>{"help", "frobnicate"},
                                        std::vector<std::string>{"h", "frobnicate", "x"}}) {
    absl::StatusOr<Invocation> inv = Parse(args);
    ASSERT_FALSE(inv.ok());
    EXPECT_EQ(inv.status().message(), "No help topic for 'frobnicate'");
    EXPECT_EQ(ExitCodeOf(inv.status()), 3);
  }
  EXPECT_EQ(ExitCodeOf(Parse({"frobnicate"}).status()), 1);  // unknown command: 1
  EXPECT_EQ(ExitCodeOf(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeOf(WithExitCode(absl::InternalError("x"), 7)), 7);
}

// urfave/cli's layout, as `runc --help` and `runc help kill` print it.
TEST(CliParse, UsageTextLayout) {
  std::string overview = UsageText("");
  size_t at = 0;
  for (const char* section : {"NAME:\n   husk - ", "\nUSAGE:\n   husk [global options] command",
                              "\nVERSION:\n   ", "\nCOMMANDS:\n   create ",
                              "\n   help, h   Shows a list of commands or help for one command\n",
                              "\nGLOBAL OPTIONS:\n   --debug "}) {
    size_t found = overview.find(section, at);
    ASSERT_NE(found, std::string::npos) << section << "\n" << overview;
    at = found;
  }
  EXPECT_EQ(UsageText("kill"),
            "NAME:\n   husk kill - send a signal (default: SIGTERM) to the container's init\n\n"
            "USAGE:\n   husk kill [command options] <container-id> [signal]\n\n"
            "OPTIONS:\n   --all, -a  send the signal to every process in the container's cgroup\n");
  EXPECT_EQ(UsageText("start"),
            "NAME:\n   husk start - run the user process of a created container\n\n"
            "USAGE:\n   husk start <container-id>\n");
  // Columns: the first padded to the widest entry plus two spaces.
  EXPECT_THAT(UsageText("create"), HasSubstr("\n   --bundle value, -b value  bundle directory"));
  EXPECT_THAT(UsageText("create"), HasSubstr("\n   --no-pivot                use MS_MOVE"));
}

// --- commands ------------------------------------------------------------------------

TEST(CliParse, UnknownAndUnsupportedCommands) {
  EXPECT_EQ(ErrorOf({"foo"}), "unknown command \"foo\"");
  EXPECT_EQ(ErrorOf({"--root", "/r", "foo", "c1"}), "unknown command \"foo\"");
  for (std::string name : {"checkpoint", "restore"}) {
    EXPECT_EQ(ErrorOf({name, "--process", "/p", "c1"}),
              "husk: command \"" + name + "\" is not supported yet");
  }
}

TEST(CliParse, PauseResumeUpdate) {
  absl::StatusOr<Invocation> inv = Parse({"pause", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kPause);
  EXPECT_EQ(inv->id, "c1");
  inv = Parse({"resume", "c1"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kResume);
  EXPECT_EQ(ErrorOf({"pause"}), "\"pause\" requires exactly 1 argument(s)");

  // containerd: --resources=- ; podman: --resources FILE; humans: runc's flags.
  inv = Parse({"update", "--resources=-", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kUpdate);
  EXPECT_EQ(inv->update.resources, "-");
  EXPECT_TRUE(inv->update.set.empty());
  inv = Parse({"update", "-r", "/tmp/r.json", "--memory", "1.5g", "--memory-swap", "-1",
               "--cpu-quota", "-1", "--cpu-share", "512", "--cpuset-cpus", "0-1",
               "--pids-limit", "100", "--kernel-memory", "64KiB", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->update.resources, "/tmp/r.json");
  using Set = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(inv->update.set, (Set{{"/memory/limit", "1610612736"},
                                  {"/memory/swap", "-1"},
                                  {"/memory/kernel", "65536"},
                                  {"/cpu/quota", "-1"},
                                  {"/cpu/shares", "512"},
                                  {"/cpu/cpus", "\"0-1\""},
                                  {"/pids/limit", "100"}}));
  inv = Parse({"update", "-m", "100M", "--memory-reservation", "512", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->update.set, (Set{{"/memory/limit", "104857600"}, {"/memory/reservation", "512"}}));
  EXPECT_EQ(ErrorOf({"update", "--memory", "lots", "c1"}), "invalid value \"lots\" for flag -memory");
  EXPECT_EQ(ErrorOf({"update", "--memory", "5x", "c1"}), "invalid value \"5x\" for flag -memory");
  EXPECT_EQ(ErrorOf({"update", "--cpu-share", "-3", "c1"}),
            "invalid value \"-3\" for flag -cpu-share");
  EXPECT_EQ(ErrorOf({"update", "--l3-cache-schema", "L3:0=f", "c1"}),
            "--l3-cache-schema: linux/intelRdt: not supported yet");
}

TEST(CliParse, MissingOrExtraIds) {
  for (std::string name : {"create", "start", "state", "delete", "run"}) {
    EXPECT_EQ(ErrorOf({name}), "\"" + name + "\" requires exactly 1 argument(s)");
  }
  EXPECT_EQ(ErrorOf({"state", "a", "b"}), "\"state\" requires exactly 1 argument(s)");
  EXPECT_EQ(ErrorOf({"kill"}), "\"kill\" requires a minimum of 1 argument(s)");
  EXPECT_EQ(ErrorOf({"kill", "a", "9", "x"}), "\"kill\" requires a maximum of 2 argument(s)");
  EXPECT_EQ(ErrorOf({"list", "x"}), "\"list\" requires exactly 0 argument(s)");
  EXPECT_EQ(ErrorOf({"features", "x"}), "\"features\" requires exactly 0 argument(s)");
}

TEST(CliParse, IdsAreValidated) {
  for (std::string name : {"create", "start", "state", "delete", "run", "kill"}) {
    EXPECT_THAT(ErrorOf({name, "../escape"}), HasSubstr("invalid container ID format"));
    EXPECT_THAT(ErrorOf({name, ".."}), HasSubstr("invalid container ID format"));
  }
  std::string hex64(64, 'a');
  EXPECT_TRUE(Parse({"state", hex64}).ok());
  EXPECT_TRUE(Parse({"state", "A_b+c,d.e-f"}).ok());
}

TEST(CliParse, Kill) {
  absl::StatusOr<Invocation> inv = Parse({"kill", "c1"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kKill);
  EXPECT_EQ(inv->signal, SIGTERM);
  EXPECT_FALSE(inv->all);

  inv = Parse({"kill", "--all", "c1", "9"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->all);
  EXPECT_EQ(inv->signal, SIGKILL);

  inv = Parse({"kill", "-a", "c1", "TERM"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->all);
  EXPECT_EQ(inv->signal, SIGTERM);

  inv = Parse({"kill", "--all", "c1", "0"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->all);
  EXPECT_EQ(inv->signal, 0);

  EXPECT_EQ(ErrorOf({"kill", "c1", "FOO"}), "unknown signal \"FOO\"");
}

TEST(CliParse, FlagsAfterTheId) {
  // urfave/cli reorders flags before positionals, so humans may write them last.
  absl::StatusOr<Invocation> inv = Parse({"delete", "c1", "--force"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->force);
}

TEST(CliParse, Delete) {
  absl::StatusOr<Invocation> inv = Parse({"delete", "c1"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kDelete);
  EXPECT_FALSE(inv->force);
  inv = Parse({"delete", "-f", "c1"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->force);
  inv = Parse({"delete", "-force", "c1"});
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->force);
}

TEST(CliParse, Run) {
  absl::StatusOr<Invocation> inv =
      Parse({"run", "-b", "bun", "-d", "--keep", "--preserve-fds=3", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kRun);
  EXPECT_EQ(inv->run.create.id, "c1");
  EXPECT_EQ(inv->run.create.bundle, "/work/dir/bun");
  EXPECT_EQ(inv->run.create.preserve_fds, 3);
  EXPECT_TRUE(inv->run.detach);
  EXPECT_TRUE(inv->run.keep);
  EXPECT_FALSE(inv->run.no_subreaper);
  EXPECT_EQ(ErrorOf({"create", "-d", "c1"}), "flag provided but not defined: -d");
}

TEST(CliParse, PreserveFdsErrors) {
  EXPECT_THAT(ErrorOf({"create", "--preserve-fds", "x", "c1"}),
              HasSubstr("invalid value \"x\" for flag -preserve-fds"));
  EXPECT_THAT(ErrorOf({"create", "--preserve-fds=-1", "c1"}),
              HasSubstr("invalid value \"-1\" for flag -preserve-fds"));
}

TEST(CliParse, List) {
  absl::StatusOr<Invocation> inv = Parse({"list"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->list_format, ListFormat::kTable);
  EXPECT_FALSE(inv->quiet);
  inv = Parse({"list", "--format=json", "-q"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->list_format, ListFormat::kJson);
  EXPECT_TRUE(inv->quiet);
  inv = Parse({"list", "-f", "json"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->list_format, ListFormat::kJson);
  EXPECT_THAT(ErrorOf({"list", "--format", "xml"}), HasSubstr("invalid format option"));
}

TEST(CliParse, SpecAndFeatures) {
  absl::StatusOr<Invocation> inv = Parse({"spec", "--rootless", "-b", "/bundle"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kSpec);
  EXPECT_TRUE(inv->spec_rootless);
  EXPECT_EQ(inv->spec_bundle, "/bundle");
  inv = Parse({"spec"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->spec_bundle, "/work/dir");
  EXPECT_FALSE(inv->spec_rootless);
  inv = Parse({"features"});
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kFeatures);
}

// --- signals --------------------------------------------------------------------------

TEST(CliSignal, NumbersAndNames) {
  EXPECT_EQ(*ParseSignal("9"), SIGKILL);
  EXPECT_EQ(*ParseSignal("15"), SIGTERM);
  EXPECT_EQ(*ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("kill"), SIGKILL);
  EXPECT_EQ(*ParseSignal("sigterm"), SIGTERM);
  EXPECT_EQ(*ParseSignal("SigHup"), SIGHUP);
  EXPECT_EQ(*ParseSignal("USR1"), SIGUSR1);
  EXPECT_EQ(*ParseSignal("WINCH"), SIGWINCH);
  EXPECT_EQ(*ParseSignal("RTMIN"), 34);
  EXPECT_EQ(*ParseSignal("SIGRTMIN+3"), 37);
  EXPECT_EQ(*ParseSignal("RTMAX-1"), 63);
  EXPECT_EQ(*ParseSignal("64"), 64);
  // The existence check, as runc accepts it (`kill ID 0`); only as a number.
  EXPECT_EQ(*ParseSignal("0"), 0);
  EXPECT_EQ(*ParseSignal("00"), 0);
}

TEST(CliSignal, Unknown) {
  for (std::string bad : {"FOO", "SIGFOO", "", "SIG0", "65", "-9", "-0", "9x", "RTMIN-1", "RTMAX+1",
                          "RTMIN+99", "SIG"}) {
    absl::StatusOr<int> signal = ParseSignal(bad);
    ASSERT_FALSE(signal.ok()) << bad;
    EXPECT_EQ(signal.status().message(), "unknown signal \"" + bad + "\"");
  }
}

// --- the scanner itself ----------------------------------------------------------------

TEST(CliFlags, UntilPositionalKeepsTheRest) {
  constexpr FlagDef kDefs[] = {{"root", "", FlagKind::kValue}, {"debug", "", FlagKind::kBool}};
  std::vector<std::string> args = {"--debug", "--root", "/r", "create", "--bundle", "b", "c"};
  absl::StatusOr<ScanResult> result = ScanFlags(kDefs, args, ScanMode::kUntilPositional);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->Bool("debug"));
  EXPECT_EQ(result->Value("root"), "/r");
  EXPECT_THAT(result->positionals, ElementsAre("create", "--bundle", "b", "c"));
}

TEST(CliFlags, InterleavedAndDash) {
  constexpr FlagDef kDefs[] = {{"all", "a", FlagKind::kBool}};
  std::vector<std::string> args = {"x", "-a", "-", "--", "-a"};
  absl::StatusOr<ScanResult> result = ScanFlags(kDefs, args, ScanMode::kInterleaved);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->Bool("all"));
  EXPECT_THAT(result->positionals, ElementsAre("x", "-", "-a"));
}

TEST(CliFlags, ParseBool) {
  for (std::string yes : {"1", "t", "T", "true", "TRUE", "True"}) {
    EXPECT_EQ(ParseBool(yes), true) << yes;
  }
  for (std::string no : {"0", "f", "F", "false", "FALSE", "False"}) {
    EXPECT_EQ(ParseBool(no), false) << no;
  }
  EXPECT_EQ(ParseBool("yes"), std::nullopt);
}

// --- log pre-scan ----------------------------------------------------------------------

TEST(CliPreScanLog, FindsLogEvenWhenTheCommandIsBad) {
  LogOptions options =
      PreScanLog({"--log", "/b/log.json", "--log-format", "json", "frobnicate", "x"});
  EXPECT_EQ(options.path, "/b/log.json");
  EXPECT_EQ(options.format, log::Format::kJson);
  EXPECT_FALSE(Parse({"--log", "/b/log.json", "--log-format", "json", "frobnicate"}).ok());
}

TEST(CliPreScanLog, FindsLogPastUnknownGlobalFlags) {
  LogOptions options =
      PreScanLog({"--bogus", "value", "-log=/l", "-log-format=json", "--debug", "state", "c1"});
  EXPECT_EQ(options.path, "/l");
  EXPECT_EQ(options.format, log::Format::kJson);
  EXPECT_TRUE(options.debug);
}

TEST(CliPreScanLog, LastWinsAndStopsAtTheCommand) {
  LogOptions options = PreScanLog({"--log", "/a", "--log=/b", "--log-format=json", "--log-format",
                                   "text", "create", "--log", "/c", "c1"});
  EXPECT_EQ(options.path, "/b");
  EXPECT_EQ(options.format, log::Format::kText);
}

TEST(CliPreScanLog, SkipsValuesOfOtherGlobalFlags) {
  // The value "create" of --root must not end the scan.
  LogOptions options = PreScanLog({"--root", "create", "--log", "/l", "state", "c1"});
  EXPECT_EQ(options.path, "/l");
}

TEST(CliPreScanLog, InvalidFormatFallsBackToText) {
  LogOptions options = PreScanLog({"--log-format", "xml", "--log", "/l", "state"});
  EXPECT_EQ(options.format, log::Format::kText);
  EXPECT_EQ(options.path, "/l");
  EXPECT_FALSE(PreScanLog({"--debug=false", "list"}).debug);
}

TEST(CliPreScanLog, AgreesWithTheFullParse) {
  std::vector<std::string> args = {"--log=/x", "--log-format", "json", "--debug", "list"};
  LogOptions options = PreScanLog(args);
  absl::StatusOr<Invocation> inv = Parse(args);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(options.path, inv->log.path);
  EXPECT_EQ(options.format, inv->log.format);
  EXPECT_EQ(options.debug, inv->log.debug);
}


// --- exec -------------------------------------------------------------------------------

TEST(CliParseExec, EveryFlag) {
  absl::StatusOr<Invocation> inv = Parse(
      {"exec", "--console-socket", "/s.sock", "--pidfd-socket", "/p.sock", "--cwd", "/tmp",
       "-e", "A=1", "--env", "B=2", "-t", "-u", "1000:100", "-g", "5", "--additional-gids=6",
       "-d", "--pid-file", "rel.pid", "--process-label", "l", "--apparmor", "a",
       "--no-new-privs", "-c", "CAP_KILL", "--cap", "CAP_CHOWN", "--preserve-fds", "2",
       "--cgroup", "cpu,cpuacct:sub", "--cgroup", "memory:m", "--ignore-paused", "c1", "sh",
       "-c", "echo -e x"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kExec);
  const ExecOptions& e = inv->exec;
  EXPECT_EQ(e.id, "c1");
  EXPECT_EQ(inv->id, "c1");
  EXPECT_EQ(e.console_socket, "/s.sock");
  EXPECT_EQ(e.pidfd_socket, "/p.sock");
  EXPECT_EQ(e.cwd, "/tmp");
  EXPECT_THAT(e.env, ElementsAre("A=1", "B=2"));
  EXPECT_TRUE(e.tty);
  EXPECT_EQ(e.uid, 1000u);
  EXPECT_EQ(e.gid, 100u);
  EXPECT_THAT(e.additional_gids, ElementsAre(5u, 6u));
  EXPECT_TRUE(e.detach);
  EXPECT_EQ(e.pid_file, "/work/dir/rel.pid");  // relative to the caller's cwd
  EXPECT_EQ(e.process_label, "l");
  EXPECT_EQ(e.apparmor, "a");
  EXPECT_EQ(e.no_new_privs, true);
  EXPECT_THAT(e.caps, ElementsAre("CAP_KILL", "CAP_CHOWN"));
  EXPECT_EQ(e.preserve_fds, 2);
  EXPECT_THAT(e.cgroups, ElementsAre("cpu,cpuacct:sub", "memory:m"));
  EXPECT_TRUE(e.ignore_paused);
  // Flags stop at the ID (runc's StopOnNthArg): the command keeps its own.
  EXPECT_THAT(e.args, ElementsAre("sh", "-c", "echo -e x"));
}

TEST(CliParseExec, DefaultsAndProcessFile) {
  absl::StatusOr<Invocation> inv = Parse({"exec", "-p", "proc.json", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  const ExecOptions& e = inv->exec;
  EXPECT_EQ(e.process_file, "/work/dir/proc.json");
  EXPECT_TRUE(e.args.empty());
  EXPECT_FALSE(e.tty);
  EXPECT_FALSE(e.detach);
  EXPECT_FALSE(e.no_new_privs.has_value());
  EXPECT_FALSE(e.uid.has_value());
  EXPECT_FALSE(e.gid.has_value());
  EXPECT_EQ(e.pid_file, "");
  EXPECT_EQ(e.preserve_fds, 0);
  inv = Parse({"exec", "--no-new-privs=false", "c1", "true"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->exec.no_new_privs, false);
  // containerd's form: flags, then the ID last.
  inv = Parse({"exec", "--process", "/p.json", "--detach", "--pid-file", "/x.pid", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->exec.detach);
  EXPECT_EQ(inv->exec.pid_file, "/x.pid");
}

TEST(CliParseExec, Errors) {
  EXPECT_EQ(ErrorOf({"exec", "c1"}), "exec args cannot be empty");
  EXPECT_THAT(ErrorOf({"exec"}), HasSubstr("requires a minimum of 1"));
  EXPECT_EQ(ErrorOf({"exec", "--preserve-fds", "-1", "c1", "true"}),
            "invalid value \"-1\" for flag -preserve-fds: parse error");
  EXPECT_EQ(ErrorOf({"exec", "-g", "-5", "c1", "true"}), "additional-gids must be a positive number -5");
  EXPECT_EQ(ErrorOf({"exec", "-g", "x", "c1", "true"}),
            "invalid value \"x\" for flag -additional-gids: parse error");
  EXPECT_EQ(ErrorOf({"exec", "--bogus", "c1", "true"}), "flag provided but not defined: -bogus");
  EXPECT_EQ(ErrorOf({"exec", "bad/id", "true"}), "invalid container ID format");
}

TEST(CliParseExec, User) {
  ExecOptions e;
  ASSERT_TRUE(ParseExecUser("0", e).ok());
  EXPECT_EQ(e.uid, 0u);
  EXPECT_FALSE(e.gid.has_value());
  e = {};
  ASSERT_TRUE(ParseExecUser("1:2", e).ok());
  EXPECT_EQ(e.uid, 1u);
  EXPECT_EQ(e.gid, 2u);
  e = {};
  ASSERT_TRUE(ParseExecUser("4294967294:0", e).ok());
  EXPECT_EQ(e.uid, 4294967294u);
  // Numbers only (security-bar.md S-17: crun once read "-u 1" as uid 0); no names, no
  // wrap-around, no signs.
  for (const char* bad : {"", "abc", "root", "4294967295", "4294967296", "-1", "+1", "1:",
                          ":1", "1:x", "1:2:3", " 1"}) {
    ExecOptions o;
    absl::Status s = ParseExecUser(bad, o);
    EXPECT_FALSE(s.ok()) << "\"" << bad << "\"";
  }
  EXPECT_EQ(ParseExecUser("abc", e).message(), "bad uid: \"abc\" is not a valid id");
  EXPECT_EQ(ParseExecUser("1:x", e).message(), "bad gid: \"x\" is not a valid id");
}

TEST(CliParseExec, RepeatedValueFlagsKeepEveryValue) {
  const FlagDef defs[] = {{"env", "e", FlagKind::kValue}};
  std::vector<std::string> args = {"-e", "A=1", "--env=B=2", "-e", "A=3"};
  absl::StatusOr<ScanResult> r = ScanFlags(defs, args, ScanMode::kInterleaved);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->Values("env"), ElementsAre("A=1", "B=2", "A=3"));
  EXPECT_EQ(r->Value("env"), "A=3");
  EXPECT_TRUE(r->Values("other").empty());
}

}  // namespace
}  // namespace husk::cli
