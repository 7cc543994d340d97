#include "exit_status.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

int finish_stdout(int rc, const std::string& tool) {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  if (flushed && !std::ferror(stdout)) return rc;
  const std::string why = !flushed && errno ? std::strerror(errno) : "some of what was printed was not written";
  std::fprintf(stderr, "%s: Cannot write to standard output: %s.\n", tool.c_str(), why.c_str());
  return 1;
}

void report_exception(const std::exception& e, const std::string& tool) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    std::fprintf(stderr, "%s: Out of memory: the model, its inputs or its outputs do not fit in this machine's memory.\n",
                 tool.c_str());
  else
    std::fprintf(stderr, "%s: %s\n", tool.c_str(), e.what());
}
