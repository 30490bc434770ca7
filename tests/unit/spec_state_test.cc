// spec/state: byte-exact `state` and `list --format json` output.
#include <string>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "spec/state.h"

namespace husk::spec {
namespace {

StateDoc Sample() {
  StateDoc s;
  s.oci_version = "1.3.0";
  s.id = "c1";
  s.pid = 4242;
  s.status = "running";
  s.bundle = "/run/bundles/c1";
  s.rootfs = "/run/bundles/c1/rootfs";
  s.created = "2026-11-27T18:22:34.501759264Z";
  return s;
}

TEST(SpecStateTest, SerializeStateExactText) {
  EXPECT_EQ(SerializeState(Sample()),
            "{\n"
            "  \"ociVersion\": \"1.3.0\",\n"
            "  \"id\": \"c1\",\n"
            "  \"pid\": 4242,\n"
            "  \"status\": \"running\",\n"
            "  \"bundle\": \"/run/bundles/c1\",\n"
            "  \"rootfs\": \"/run/bundles/c1/rootfs\",\n"
            "  \"created\": \"2026-11-27T18:22:34.501759264Z\",\n"
            "  \"owner\": \"\"\n"
            "}");
}

TEST(SpecStateTest, StoppedKeepsPidZeroAndAnnotationsAreSortedLast) {
  StateDoc s = Sample();
  s.status = "stopped";
  s.pid = 0;
  s.annotations = {{"z", "1"}, {"a", "quote\" and \\ and \n"}};
  EXPECT_EQ(SerializeState(s),
            "{\n"
            "  \"ociVersion\": \"1.3.0\",\n"
            "  \"id\": \"c1\",\n"
            "  \"pid\": 0,\n"
            "  \"status\": \"stopped\",\n"
            "  \"bundle\": \"/run/bundles/c1\",\n"
            "  \"rootfs\": \"/run/bundles/c1/rootfs\",\n"
            "  \"created\": \"2026-11-27T18:22:34.501759264Z\",\n"
            "  \"owner\": \"\",\n"
            "  \"annotations\": {\n"
            "    \"a\": \"quote\\\" and \\\\ and \\n\",\n"
            "    \"z\": \"1\"\n"
            "  }\n"
            "}");
}

TEST(SpecStateTest, SerializeStateList) {
  EXPECT_EQ(SerializeStateList({}), "null");
  StateDoc a = Sample();
  a.owner = "root";
  StateDoc b = Sample();
  b.id = "c2";
  b.status = "created";
  b.annotations = {{"k", "v"}};
  EXPECT_EQ(SerializeStateList({a, b}),
            R"([{"ociVersion":"1.3.0","id":"c1","pid":4242,"status":"running",)"
            R"("bundle":"/run/bundles/c1","rootfs":"/run/bundles/c1/rootfs",)"
            R"("created":"2026-11-27T18:22:34.501759264Z","owner":"root"},)"
            R"({"ociVersion":"1.3.0","id":"c2","pid":4242,"status":"created",)"
            R"("bundle":"/run/bundles/c1","rootfs":"/run/bundles/c1/rootfs",)"
            R"("created":"2026-11-27T18:22:34.501759264Z","owner":"","annotations":{"k":"v"}}])");
}

TEST(SpecStateTest, OutputIsValidJsonForOddStrings) {
  StateDoc s = Sample();
  s.bundle = std::string("a\x01\tb\xc3\xa9", 6);
  rapidjson::Document doc;
  doc.Parse(SerializeState(s).c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(std::string(doc["bundle"].GetString()), s.bundle);
}

}  // namespace
}  // namespace husk::spec

namespace husk::spec {
namespace {

TEST(SpecStateTest, HookStateHasOnlyRuntimeSpecFieldsAndMayOmitPid) {
  StateDoc s = Sample();
  s.annotations = {{"k", "v"}};
  EXPECT_EQ(SerializeHookState(s, true),
            R"({"ociVersion":"1.3.0","id":"c1","pid":4242,"status":"running",)"
            R"("bundle":"/run/bundles/c1","annotations":{"k":"v"}})");
  s.status = "stopped";
  EXPECT_EQ(SerializeHookState(s, false), R"({"ociVersion":"1.3.0","id":"c1","status":"stopped",)"
                                          R"("bundle":"/run/bundles/c1","annotations":{"k":"v"}})");
}

}  // namespace
}  // namespace husk::spec
