// The JSON lines `husk events` prints: runc 1.1's types.Event with a types.Stats payload,
// field names, order and omitempty rules as Go's encoding/json writes them (struct fields
// in declaration order, map keys sorted, omitempty dropping zero numbers and empty
// lists/maps but never a struct). Pure. Parent process only.
#ifndef HUSK_RUNTIME_EVENTS_JSON_H_
#define HUSK_RUNTIME_EVENTS_JSON_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "runtime/kernel/cgroups/stats.h"

namespace husk {

// {"type":"stats","id":ID,"data":{...}} without a trailing newline.
std::string StatsEventJson(absl::string_view id, const kernel::cgroups::Stats& stats);
// {"type":"oom","id":ID}
std::string OomEventJson(absl::string_view id);
// `ps --format json`: [pid,...], or null for none (runc's encoding of a nil slice).
std::string PidsJson(const std::vector<int>& pids);

}  // namespace husk

#endif  // HUSK_RUNTIME_EVENTS_JSON_H_
