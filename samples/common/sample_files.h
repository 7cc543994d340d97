// Where the samples find the files they ship with (the trained classifier and generator): next to the running
// program, in the install prefix's share/vkattn/, or, in a build tree, in the source tree.
#pragma once
#include <string>

// The path of the shipped file `name` (e.g. "fashion_sagan.safetensors"); when it is nowhere,
// the installed location, so that the error names where it should be.
std::string sample_file(const std::string& name);
