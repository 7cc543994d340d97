// Output files that never destroy what the path names, never tear, and never pile up.
//
// What a path names decides how it is written:
// - a regular file, or nothing yet: the data goes into a temp file beside it (a short name unique
//   to the process and the write, so no name the filesystem allows is refused for its length and
//   two writers never share one), which is fsynced and renamed over the path by commit(); until
//   then, and on any failure, the path keeps what it held;
// - a symbolic link: followed, so that its target is what is written and the link stays;
// - a FIFO, a character device, or "-" (standard output): written directly, every write checked;
// - anything else (a directory, a block device, a socket) is refused.
// Every failure is a vkattn::Error naming the path and the cause, such as a full device.
#pragma once
#include <cstddef>
#include <string>

namespace vkattn {

class OutputFile {
 public:
  // Opens `path` for writing as above. A FIFO with no reader blocks here, as any writer would.
  explicit OutputFile(const std::string& path);
  // Without commit() (an exception on the way, say) the temp file is removed.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, size_t bytes);
  // Makes the data the path's: flushes it to disk and renames the temp file over the target.
  void commit();

  const std::string& path() const { return path_; }

 private:
  std::string path_;    // as the user gave it, for messages
  std::string target_;  // what gets replaced: the path with its symbolic links followed
  std::string temp_;    // empty when written directly
  int fd_ = -1;
  bool owns_fd_ = false;  // false for standard output
  int temp_slot_ = -1;    // where the signal handler finds temp_
};

// Writes `bytes` to `path` as an OutputFile and commits it.
void write_output_file(const std::string& path, const std::string& bytes);

// For programs: SIGINT, SIGTERM and SIGHUP remove the temp files of writes in progress, then end
// the process with the signal's own status. Call once, early in main.
void remove_temp_outputs_on_signals();

}  // namespace vkattn
