#include "args.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "vkattn/error.h"

Args Args::parse(int argc, char** argv, const std::set<std::string>& flags) {
  Args a;
  if (argc < 2) throw vkattn::Error("No command given; run 'vkattn help' for the commands.");
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.rfind("--", 0) != 0 || word.size() < 3)
      throw vkattn::Error("Unexpected argument '" + word + "'; options look like --name value.");
    const std::string name = word.substr(2);
    if (flags.count(name)) {
      a.values[name] = std::string(1, '1');
    } else {
      if (i + 1 >= argc) throw vkattn::Error("Option --" + name + " needs a value.");
      a.values[name] = argv[++i];
    }
  }
  return a;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  const auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

std::string Args::need(const std::string& name) const {
  if (!has(name)) throw vkattn::Error("'vkattn " + command + "' needs --" + name + ".");
  return get(name);
}

uint64_t Args::integer(const std::string& name, uint64_t fallback, uint64_t lo, uint64_t hi) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  const uint64_t v = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || v < lo || v > hi)
    throw vkattn::Error("--" + name + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                        ", but it is '" + text + "'.");
  return v;
}

void Args::allow(const std::set<std::string>& names) const {
  for (const auto& [name, value] : values)
    if (!names.count(name)) throw vkattn::Error("'vkattn " + command + "' has no option --" + name + ".");
}

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos || std::stoll(part) < 1)
      throw vkattn::Error("Shape '" + text + "' must be positive integers separated by commas, like 1,64,32,32.");
    shape.push_back(std::stoll(part));
  }
  return shape;
}
