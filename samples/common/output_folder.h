// The samples' output folders (files themselves are written with vkattn::OutputFile).
#pragma once
#include <string>

// Makes the output folder `dir` (and its parents) if missing; a vkattn::Error names it otherwise.
void make_output_folder(const std::string& dir);
