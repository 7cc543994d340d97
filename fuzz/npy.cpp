// Any bytes as a .npy file: either a vkattn::Error or a tensor that is whole.
#include "invariants.h"
#include "vkattn/error.h"
#include "vkattn/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fuzz::expect_whole(vkattn::parse_npy({reinterpret_cast<const char*>(data), size}, "input"));
  } catch (const vkattn::Error&) {
  }
  return 0;
}
