// The copy of a container's hooks that `create` keeps in its state dir (hooks.json) so
// `start` and `delete` run the hooks config.json had at create time, whatever edits came
// later (runtime.md: "later edits to config.json have no effect"). Serialisation only;
// spec::ParseHooksJson reads it back. Parent only.
#ifndef HUSK_HOOKS_SAVED_H_
#define HUSK_HOOKS_SAVED_H_

#include <string>

#include "spec/config.h"

namespace husk::hooks {

// The file's name in the container's state dir.
inline constexpr char kSavedHooksFile[] = "hooks.json";

// The hooks that run after `create` has returned: poststart and poststop (startContainer
// is in the waiting init's memory already). Empty when there are none.
spec::Hooks HooksAfterCreate(const spec::Hooks& hooks);

// A `hooks` object in config.json's syntax, e.g. {"poststop":[{"path":"/x","args":[...]}]}.
std::string SerializeHooks(const spec::Hooks& hooks);

}  // namespace husk::hooks

#endif  // HUSK_HOOKS_SAVED_H_
