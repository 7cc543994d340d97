// The samples' validation switch: VKATTN_VALIDATION=1 (anything but "0") turns on the Khronos
// validation layer; every message is printed as "<tool>: validation: ..." and counted, and a
// command that saw any ends with exit code 3.
#pragma once
#include <string>

#include "vkattn/context.h"

bool validation_requested();
// Prints and counts one message (for a program that creates its own instance).
void report_validation_message(const std::string& tool, const std::string& message);
// Context options for `device` with validation as the environment asks, messages reported.
vkattn::ContextOptions sample_context_options(const std::string& device, const std::string& tool);
// rc, or 3 after saying how many validation messages there were.
int exit_code(int rc, const std::string& tool);
