// What every fuzz target asserts beyond "no crash": a violated invariant aborts, which libFuzzer
// (and the replay program under ctest) reports as a failure with the input that caused it.
#pragma once
#include <cstdio>
#include <cstdlib>

#include "vkattn/tensor.h"

namespace fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

inline void expect(bool holds, const char* what) {
  if (!holds) violated(what);
}

// A loaded tensor holds exactly as many values as its shape says.
inline void expect_whole(const vkattn::HostTensor& t) {
  uint64_t count = 1;
  for (int64_t d : t.shape) {
    expect(d >= 0, "a loaded tensor has a negative dimension");
    count *= static_cast<uint64_t>(d);
  }
  expect(count == t.data.size(), "a loaded tensor's shape product differs from its data size");
}

}  // namespace fuzz
