// The samples' command lines (vkattn, classify, embed), parsed with CLI11: --help and -h on
// every command, --version, "--opt value" and "--opt=value", numbers converted and range-checked
// by the parser. A mistake is one sentence on stderr and exit status 2.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "vkattn/executor.h"

// Parses argv into `app`. Returns -1 when the program should go on; otherwise the exit status:
// 0 after printing help or the version, 2 after printing the mistake as
// "<tool>: <what>; run '<tool> [command] --help'.".
int parse_command_line(CLI::App& app, int argc, char** argv);

// Validators that see the text as given (CLI11's own conversion would take "-5" as 2^64 - 5,
// "010" as octal 8 and "nan" as inside any range):
// a whole number of decimal digits, within [lo, hi].
CLI::Validator whole_number(uint64_t lo, uint64_t hi);
// a finite decimal number within [lo, hi].
CLI::Validator real_number(double lo, double hi);

// --precision fp32|fp16 into `precision`; `details` follows the common description.
CLI::Option* add_precision_option(CLI::App* command, vkattn::Precision& precision, const std::string& details = "");

// "vkattn 0.1.0" for --version (with the library's version too where it differs).
std::string version_line(const std::string& tool);
