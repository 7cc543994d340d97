#include "file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "vkattn/error.h"
#include "vkattn/io.h"

namespace vkattn {

void require_usable_path(const std::string& path) {
  if (path.empty()) throw Error("A file path is empty.");
  if (path.find('\0') != std::string::npos)
    throw Error("The path '" + std::string(path.c_str()) + "...' holds a NUL byte, which no file name can.");
}

std::string read_file_bytes(const std::string& path) {
  require_usable_path(path);
  // Non-blocking, so that opening a FIFO without a writer returns at once and is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw Error("Cannot open '" + path + "': " + std::strerror(errno) + ".");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) throw Error("Cannot read '" + path + "': " + std::strerror(errno) + ".");
  if (S_ISDIR(st.st_mode)) throw Error("'" + path + "' is a directory, not a file.");
  if (!S_ISREG(st.st_mode))
    throw Error("'" + path + "' is not a regular file (a device, FIFO or socket); vkattn reads files whole.");
  std::string bytes;
  try {
    bytes.resize(static_cast<size_t>(st.st_size));
  } catch (const std::bad_alloc&) {
    throw Error("'" + path + "' (" + std::to_string(st.st_size) + " bytes) does not fit in memory.");
  } catch (const std::length_error&) {
    throw Error("'" + path + "' (" + std::to_string(st.st_size) + " bytes) does not fit in memory.");
  }
  size_t have = 0;
  while (true) {
    char probe;
    // Past the size it said, one byte more is read only to find out whether there is more.
    char* into = have < bytes.size() ? &bytes[have] : &probe;
    const size_t want = have < bytes.size() ? bytes.size() - have : 1;
    const ssize_t n = ::read(fd, into, want);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw Error("Cannot read '" + path + "': reading it failed part way (" + std::strerror(errno) + ").");
    if (n == 0) break;
    if (have >= bytes.size())
      throw Error("'" + path + "' is larger than the " + std::to_string(bytes.size()) +
                  " bytes its size says (it grew while being read).");
    have += static_cast<size_t>(n);
  }
  if (have < bytes.size())
    throw Error("'" + path + "' is shorter than the " + std::to_string(bytes.size()) +
                " bytes its size says (it shrank while being read).");
  return bytes;
}

std::string read_file(const std::string& path) { return read_file_bytes(path); }

}  // namespace vkattn
