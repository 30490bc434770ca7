#include "runtime/cli/flags.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"

namespace husk::cli {
namespace {

const FlagDef* FindFlag(absl::Span<const FlagDef> defs, absl::string_view name) {
  for (const FlagDef& def : defs) {
    if (def.name == name || (!def.alias.empty() && def.alias == name)) return &def;
  }
  return nullptr;
}

bool IsFlagToken(absl::string_view arg) {
  // "-" alone is a positional (conventionally stdin), as in Go's flag package.
  return arg.size() >= 2 && arg[0] == '-';
}

}  // namespace

bool ScanResult::Bool(absl::string_view name) const {
  auto it = values.find(name);
  return it != values.end() && it->second == "true";
}

std::optional<std::string> ScanResult::Value(absl::string_view name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ScanResult::Values(absl::string_view name) const {
  auto it = lists.find(name);
  if (it == lists.end()) return {};
  return it->second;
}

std::string AbsoluteTo(absl::string_view cwd, absl::string_view path) {
  if (absl::StartsWith(path, "/")) return CleanPath(path);
  return CleanPath(absl::StrCat(cwd, "/", path));
}

std::optional<bool> ParseBool(absl::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") {
    return true;
  }
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

absl::StatusOr<ScanResult> ScanFlags(absl::Span<const FlagDef> defs,
                                     absl::Span<const std::string> args, ScanMode mode) {
  ScanResult result;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      result.positionals.insert(result.positionals.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (!IsFlagToken(arg)) {
      if (mode == ScanMode::kUntilPositional) {
        result.positionals.insert(result.positionals.end(), args.begin() + i, args.end());
        break;
      }
      result.positionals.emplace_back(arg);
      continue;
    }

    // One or two dashes mean the same thing (runc accepts -no-subreaper).
    absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return absl::InvalidArgumentError(absl::StrCat("bad flag syntax: ", arg));
    }
    std::optional<absl::string_view> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      inline_value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const FlagDef* def = FindFlag(defs, body);
    if (def == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("flag provided but not defined: -", body));
    }
    std::string& slot = result.values[std::string(def->name)];

    if (def->kind == FlagKind::kBool) {
      // A boolean never consumes the next argument: `--detach false` is a positional.
      if (!inline_value) {
        slot = "true";
        continue;
      }
      std::optional<bool> value = ParseBool(*inline_value);
      if (!value) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid boolean value ", Quote(*inline_value), " for -", body, ": parse error"));
      }
      slot = *value ? "true" : "false";
      continue;
    }

    if (inline_value) {
      slot = std::string(*inline_value);
    } else if (i + 1 < args.size()) {
      slot = args[++i];  // taken verbatim, even if it starts with '-'
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: -", body));
    }
    result.lists[std::string(def->name)].push_back(slot);
  }
  return result;
}

}  // namespace husk::cli
