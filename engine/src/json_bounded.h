// JSON from files people download, parsed with a depth limit. nlohmann's parser itself is
// iterative, but copying and dumping a value recurse, so a document nested ~100k deep (a few
// hundred KiB of brackets) would overflow the stack later; no file of ours nests past a handful.
#pragma once
#include <nlohmann/json.hpp>

#include "vkattn/error.h"

namespace vkattn {

inline constexpr int kMaxJsonDepth = 64;

// Throws vkattn::Error(what + " nests deeper than 64 levels.") past the limit and lets nlohmann's
// own exceptions through for JSON that is not valid.
template <class Input>
nlohmann::json parse_json_bounded(Input&& first, Input&& last, const std::string& what) {
  return nlohmann::json::parse(std::forward<Input>(first), std::forward<Input>(last),
                               [&what](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                 if (depth > kMaxJsonDepth)
                                   throw Error(what + " nests deeper than " + std::to_string(kMaxJsonDepth) + " levels.");
                                 return true;
                               });
}

// A JSON value as it may appear in an error sentence: whole if short, else its first 60
// characters and "...", so that a message never carries a whole document.
inline std::string json_excerpt(const nlohmann::json& value) {
  constexpr size_t kMax = 60;
  std::string text = value.dump();
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

}  // namespace vkattn
