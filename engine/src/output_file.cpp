#include "vkattn/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "file_io.h"
#include "vkattn/error.h"

namespace vkattn {
namespace {

// Temp files of writes in progress, where a signal handler can find them: a fixed table, since a
// handler may neither allocate nor lock. A slot is 0 free, 1 being filled, 2 holding a path.
constexpr int kTempSlots = 64;
struct TempSlot {
  std::atomic<int> state{0};
  char path[PATH_MAX];
};
TempSlot temp_slots[kTempSlots];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads the slots");

// -1 when the table is full: the write still works, only a signal would then leave its temp file.
int claim_temp_slot(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kTempSlots; ++i) {
    int expected = 0;
    if (!temp_slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(temp_slots[i].path, path.c_str(), path.size() + 1);
    temp_slots[i].state.store(2);
    return i;
  }
  return -1;
}

void release_temp_slot(int slot) {
  if (slot >= 0) temp_slots[slot].state.store(0);
}

void remove_temp_files_and_die(int signal) {
  const int saved = errno;
  for (TempSlot& slot : temp_slots)
    if (slot.state.load() == 2) ::unlink(slot.path);
  errno = saved;
  // Ends the process as the signal would have, so that the caller sees its status.
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

std::string cause() { return std::strerror(errno); }

std::string shown(const std::string& path) { return path == "-" ? "to standard output" : "'" + path + "'"; }

std::string parent_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// The path with its symbolic links followed to what they name (which need not exist yet).
std::string follow_links(const std::string& path) {
  std::string at = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(at.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return at;
    char target[PATH_MAX + 1];
    const ssize_t length = ::readlink(at.c_str(), target, PATH_MAX);
    if (length < 0) throw Error("Cannot write '" + path + "': its link cannot be read (" + cause() + ").");
    const std::string next(target, static_cast<size_t>(length));
    at = next.front() == '/' ? next : (std::filesystem::path(parent_of(at)) / next).string();
  }
  throw Error("Cannot write '" + path + "': it is a chain of more than 40 symbolic links.");
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file vkattn writes";
}

}  // namespace

OutputFile::OutputFile(const std::string& path) : path_(path) {
  require_usable_path(path);
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  target_ = follow_links(path);
  struct stat st;
  const bool exists = ::stat(target_.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) throw Error("Cannot write '" + path + "': " + cause() + ".");
  if (exists && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
    do fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) throw Error("Cannot write '" + path + "': " + cause() + ".");
    owns_fd_ = true;
    return;
  }
  if (exists && !S_ISREG(st.st_mode))
    throw Error("Cannot write '" + path + "': it is " + kind_of(st.st_mode) +
                "; outputs go to regular files, FIFOs, character devices or '-' (standard output).");
  static std::atomic<unsigned> writes{0};
  const std::string dir = parent_of(target_), prefix = dir + "/.vkattn-" + std::to_string(::getpid()) + "-";
  for (int attempt = 0; fd_ < 0; ++attempt) {
    std::string temp = prefix + std::to_string(writes++) + ".tmp";
    temp_slot_ = claim_temp_slot(temp);  // before the file exists, so that a signal never misses it
    fd_ = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      temp_ = std::move(temp);
      break;
    }
    const int error = errno;
    release_temp_slot(temp_slot_);
    temp_slot_ = -1;
    errno = error;
    if (errno != EEXIST || attempt == 100) throw Error("Cannot write '" + path + "': " + cause() + ".");
  }
  owns_fd_ = true;
  if (exists) (void)::fchmod(fd_, st.st_mode & 07777);  // a replaced file keeps its permissions
}

OutputFile::~OutputFile() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
  release_temp_slot(temp_slot_);
}

void OutputFile::write(const void* data, size_t bytes) {
  if (fd_ < 0) throw Error("Cannot write " + shown(path_) + ": it is already closed.");
  const char* at = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, at, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error("Cannot write " + shown(path_) + ": " + (n < 0 ? cause() : "nothing was written") + ".");
    at += n;
    bytes -= static_cast<size_t>(n);
  }
}

void OutputFile::commit() {
  if (fd_ < 0) return;
  if (temp_.empty()) {  // written directly: only closing is left, and it too can report a failure
    const int fd = fd_;
    fd_ = -1;
    if (owns_fd_ && ::close(fd) != 0 && errno != EINTR) throw Error("Cannot write " + shown(path_) + ": " + cause() + ".");
    return;
  }
  // On disk before the rename, so that a crash leaves the old file or the new one, never a torn one.
  if (::fsync(fd_) != 0 && errno != EINVAL) throw Error("Cannot write '" + path_ + "': " + cause() + ".");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) throw Error("Cannot write '" + path_ + "': " + cause() + ".");
  if (::rename(temp_.c_str(), target_.c_str()) != 0) throw Error("Cannot write '" + path_ + "': " + cause() + ".");
  temp_.clear();
  release_temp_slot(temp_slot_);
  temp_slot_ = -1;
  // The rename itself, made durable (best effort: some filesystems cannot sync a directory).
  const int dir = ::open(parent_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

void write_output_file(const std::string& path, const std::string& bytes) {
  OutputFile out(path);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

void remove_temp_outputs_on_signals() {
  struct sigaction action {};
  action.sa_handler = remove_temp_files_and_die;
  sigemptyset(&action.sa_mask);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&action.sa_mask, signal);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
}

}  // namespace vkattn
