// How a sample program ends: its standard output checked, and any exception as one sentence.
#pragma once
#include <exception>
#include <string>

// rc, or 1 after "<tool>: Cannot write to standard output: ..." when what was printed to stdout
// did not all arrive (a full device, a closed pipe): printf alone would exit 0 regardless.
int finish_stdout(int rc, const std::string& tool);

// Prints "<tool>: <sentence>" on stderr for any exception; running out of memory gets its own.
void report_exception(const std::exception& e, const std::string& tool);
