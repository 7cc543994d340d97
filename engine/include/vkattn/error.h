// vkattn reports every failure a user can act on as one vkattn::Error whose message is a whole
// sentence (what went wrong, and where it helps, what to do about it).
#pragma once
#include <stdexcept>
#include <string>

namespace vkattn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& sentence) : std::runtime_error(sentence) {}
};

}  // namespace vkattn
