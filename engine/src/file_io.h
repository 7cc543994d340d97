// Whole-file reading for the loaders, each failure one sentence; writing is OutputFile's.
#pragma once
#include <string>

namespace vkattn {

// Refuses a path no file can have: empty, or holding a NUL byte (the C library would open the
// file named by the part before it).
void require_usable_path(const std::string& path);

// The bytes of the regular file at `path`, read up to the size it had when opened: a FIFO, a
// device or a directory is refused before anything is read (a link to /dev/zero would otherwise
// be read until memory runs out), and a file that grows while it is read is an error.
std::string read_file_bytes(const std::string& path);

}  // namespace vkattn
