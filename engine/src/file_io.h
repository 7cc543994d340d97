// Whole-file reading and writing for the loaders and savers, each failure one sentence.
#pragma once
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <system_error>

#include "vkattn/error.h"

namespace vkattn {

// Missing, a directory (libstdc++ would otherwise throw "basic_filebuf::underflow ..."), or
// unreadable part way: each its own sentence.
inline std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error("'" + path + "' is a directory, not a file.");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("Cannot open '" + path + "'.");
  try {
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    throw Error("Cannot read '" + path + "': reading it failed part way.");
  }
}

// Writes `path` whole or not at all: into a partial file beside it, flushed and checked (a full
// disk shows only when the buffer is flushed), then renamed over the target. On any failure the
// partial file is removed and an existing target is left untouched. The partial file's name is
// unique to the process and the call (<path>.<pid>.<n>.partial), so that two writers of one
// path (two processes saving the pipeline cache) never write into the same partial file.
inline void write_file_atomically(const std::string& path, const std::function<void(std::ofstream&)>& write) {
  static std::atomic<unsigned> calls{0};
  const std::string partial =
      path + "." + std::to_string(::getpid()) + "." + std::to_string(calls++) + ".partial";
  try {
    std::ofstream out(partial, std::ios::binary);
    if (!out) throw Error("Cannot write '" + path + "'.");
    write(out);
    out.close();
    if (!out) throw Error("Writing '" + path + "' failed (disk full?).");
    if (std::rename(partial.c_str(), path.c_str()) != 0) throw Error("Cannot write '" + path + "'.");
  } catch (...) {
    std::remove(partial.c_str());
    throw;
  }
}

}  // namespace vkattn
