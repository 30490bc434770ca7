// `ps` and `events` on the command line: ParseGoDuration (Go's time.ParseDuration, behind
// `events --interval`) and how ParseCommandLine fills PsOptions / EventsOptions (runc's
// grammar: everything after the ps ID goes to the host's ps).
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/duration.h"
#include "runtime/cli/parse.h"

namespace husk::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMs = 1000000;
constexpr int64_t kS = 1000 * kMs;

TEST(GoDuration, Valid) {
  EXPECT_EQ(*ParseGoDuration("5s"), 5 * kS);
  EXPECT_EQ(*ParseGoDuration("500ms"), 500 * kMs);
  EXPECT_EQ(*ParseGoDuration("1m30s"), 90 * kS);
  EXPECT_EQ(*ParseGoDuration("1h"), 3600 * kS);
  EXPECT_EQ(*ParseGoDuration("1.5h"), 5400 * kS);
  EXPECT_EQ(*ParseGoDuration(".5s"), 500 * kMs);
  EXPECT_EQ(*ParseGoDuration("1.s"), kS);
  EXPECT_EQ(*ParseGoDuration("10us"), 10000);
  EXPECT_EQ(*ParseGoDuration("10\xc2\xb5s"), 10000);  // µs
  EXPECT_EQ(*ParseGoDuration("10\xce\xbcs"), 10000);  // μs
  EXPECT_EQ(*ParseGoDuration("7ns"), 7);
  EXPECT_EQ(*ParseGoDuration("0"), 0);
  EXPECT_EQ(*ParseGoDuration("+0"), 0);
  EXPECT_EQ(*ParseGoDuration("0s"), 0);
  EXPECT_EQ(*ParseGoDuration("-2s"), -2 * kS);
  EXPECT_EQ(*ParseGoDuration("2h45m10.5s"), (2 * 3600 + 45 * 60 + 10) * kS + 500 * kMs);
  EXPECT_EQ(*ParseGoDuration("9223372036854775807ns"), INT64_MAX);
  EXPECT_EQ(*ParseGoDuration("-9223372036854775808ns"), INT64_MIN);
}

TEST(GoDuration, Invalid) {
  EXPECT_EQ(ParseGoDuration("").status().message(), "time: invalid duration \"\"");
  EXPECT_EQ(ParseGoDuration("abc").status().message(), "time: invalid duration \"abc\"");
  EXPECT_EQ(ParseGoDuration("5").status().message(), "time: missing unit in duration \"5\"");
  EXPECT_EQ(ParseGoDuration("1d").status().message(),
            "time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_FALSE(ParseGoDuration(".s").ok());
  EXPECT_FALSE(ParseGoDuration("-").ok());
  EXPECT_FALSE(ParseGoDuration("1s ").ok());
  EXPECT_FALSE(ParseGoDuration("5s3").ok());
  EXPECT_FALSE(ParseGoDuration("9223372036854775808ns").ok());
  EXPECT_FALSE(ParseGoDuration("3000000h").ok());
}

ParseEnv TestEnv() {
  ParseEnv env;
  env.cwd = "/work";
  return env;
}

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args, TestEnv());
}

TEST(CliPsEvents, Ps) {
  absl::StatusOr<Invocation> inv = Parse({"ps", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kPs);
  EXPECT_EQ(inv->ps.id, "c1");
  EXPECT_EQ(inv->ps.format, PsFormat::kTable);
  EXPECT_TRUE(inv->ps.ps_args.empty());

  inv = Parse({"ps", "--format", "json", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->ps.format, PsFormat::kJson);
  inv = Parse({"ps", "-f=json", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->ps.format, PsFormat::kJson);

  // After the ID everything is the host ps's, dashes included.
  inv = Parse({"ps", "c1", "-o", "pid,comm", "--format", "json"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->ps.format, PsFormat::kTable);
  EXPECT_THAT(inv->ps.ps_args, ElementsAre("-o", "pid,comm", "--format", "json"));

  EXPECT_EQ(Parse({"ps"}).status().message(), "\"ps\" requires a minimum of 1 argument(s)");
  EXPECT_EQ(Parse({"ps", "-f", "yaml", "c1"}).status().message(), "invalid format option");
  EXPECT_EQ(Parse({"ps", "a/b"}).status().message(), "invalid container ID format");
}

TEST(CliPsEvents, Events) {
  absl::StatusOr<Invocation> inv = Parse({"events", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kEvents);
  EXPECT_EQ(inv->events.id, "c1");
  EXPECT_FALSE(inv->events.stats);
  EXPECT_EQ(inv->events.interval_ns, 5 * kS);

  inv = Parse({"events", "c1", "--stats"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->events.stats);
  inv = Parse({"events", "--interval=200ms", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->events.interval_ns, 200 * kMs);
  inv = Parse({"events", "-interval", "1m30s", "c1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->events.interval_ns, 90 * kS);

  EXPECT_EQ(Parse({"events", "--interval", "5", "c1"}).status().message(),
            "invalid value \"5\" for flag -interval: parse error");
  EXPECT_EQ(Parse({"events"}).status().message(), "\"events\" requires exactly 1 argument(s)");
  EXPECT_EQ(Parse({"events", "a", "b"}).status().message(),
            "\"events\" requires exactly 1 argument(s)");
  EXPECT_THAT(UsageText("events"), HasSubstr("--interval value"));
  EXPECT_THAT(UsageText("ps"), HasSubstr("<container-id> [ps options]"));
  EXPECT_THAT(UsageText(""), HasSubstr("\n   events  "));
}

}  // namespace
}  // namespace husk::cli
