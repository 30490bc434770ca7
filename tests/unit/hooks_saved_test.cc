// hooks/saved + spec::ParseHooksJson: the hooks.json copy `create` keeps for start/delete.
#include <string>

#include "gtest/gtest.h"
#include "hooks/saved.h"
#include "spec/parse.h"

namespace husk::hooks {
namespace {

TEST(HooksSavedTest, KeepsPoststartAndPoststopExactly) {
  spec::Hooks hooks;
  hooks.prestart.push_back({"/pre", {}, {}, std::nullopt});
  hooks.start_container.push_back({"/sc", {}, {}, std::nullopt});
  hooks.poststart.push_back({"/bin/sh", {"sh", "-c", "echo \"x\""}, {"A=1", "B="}, 5});
  hooks.poststop.push_back({"/stop", {}, {}, std::nullopt});
  hooks.poststop.push_back({"/stop2", {"a"}, {}, 1});
  std::string json = SerializeHooks(HooksAfterCreate(hooks));
  EXPECT_EQ(json.find("/pre"), std::string::npos) << json;
  EXPECT_EQ(json.find("/sc"), std::string::npos) << json;
  auto back = spec::ParseHooksJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_TRUE(back->prestart.empty());
  EXPECT_TRUE(back->start_container.empty());
  ASSERT_EQ(back->poststart.size(), 1u);
  EXPECT_EQ(back->poststart[0].path, "/bin/sh");
  EXPECT_EQ(back->poststart[0].args, hooks.poststart[0].args);
  EXPECT_EQ(back->poststart[0].env, hooks.poststart[0].env);
  EXPECT_EQ(back->poststart[0].timeout, 5);
  ASSERT_EQ(back->poststop.size(), 2u);
  EXPECT_EQ(back->poststop[0].path, "/stop");
  EXPECT_FALSE(back->poststop[0].timeout.has_value());
  EXPECT_EQ(back->poststop[1].args, std::vector<std::string>{"a"});
}

TEST(HooksSavedTest, DamagedFileIsAnError) {
  EXPECT_FALSE(spec::ParseHooksJson("{\"poststop\": [{}]}").ok());
  EXPECT_FALSE(spec::ParseHooksJson("not json").ok());
}

}  // namespace
}  // namespace husk::hooks
