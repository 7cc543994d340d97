// Command-line parsing for the vkattn tool: `vkattn <command> [--name value | --flag]...`.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

struct Args {
  std::string command;
  std::map<std::string, std::string> values;

  // Parses argv; `flags` are options that take no value. Throws vkattn::Error on a malformed line.
  static Args parse(int argc, char** argv, const std::set<std::string>& flags);
  bool has(const std::string& name) const { return values.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::string need(const std::string& name) const;  // throws if absent
  // Checks that only these options were given.
  void allow(const std::set<std::string>& names) const;
};

// "1,64,32,32" -> {1, 64, 32, 32}; throws on anything but positive integers.
std::vector<int64_t> parse_shape(const std::string& text);
