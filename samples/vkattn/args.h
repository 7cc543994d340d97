// Command-line parsing for the vkattn tool: `vkattn <command> [--name value | --flag]...`.
#pragma once
#include <cstdint>
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
  // A whole number from the whole value of --name, within [lo, hi]; fallback when absent.
  // "abc", "5x", "-5" where lo >= 0 and values past hi are errors that name the option.
  uint64_t integer(const std::string& name, uint64_t fallback, uint64_t lo, uint64_t hi) const;
  // Checks that only these options were given.
  void allow(const std::set<std::string>& names) const;
};

// "1,64,32,32" -> {1, 64, 32, 32}; throws on anything but positive integers.
std::vector<int64_t> parse_shape(const std::string& text);
