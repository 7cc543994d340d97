// Output files of the samples, written whole or not at all.
#pragma once
#include <string>

// Writes `bytes` to path + ".partial" beside the target, checks it after closing (a full disk
// shows only then) and renames it over `path`; on failure removes the partial file, leaves an
// existing target untouched and throws vkattn::Error("Cannot write 'path'.").
void write_file_atomically(const std::string& path, const std::string& bytes);

// Makes the output folder `dir` (and its parents) if missing; a vkattn::Error names it otherwise.
void make_output_folder(const std::string& dir);
