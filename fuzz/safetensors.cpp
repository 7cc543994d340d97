// Any bytes as a safetensors file: either a vkattn::Error or tensors that are whole and finite.
#include <cmath>

#include "invariants.h"
#include "vkattn/error.h"
#include "vkattn/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const vkattn::SafeTensors file = vkattn::parse_safetensors({reinterpret_cast<const char*>(data), size}, "input");
    for (const auto& [name, tensor] : file.tensors) {
      fuzz::expect_whole(tensor);
      for (float v : tensor.data) fuzz::expect(std::isfinite(v), "a loaded weight is NaN or infinite");
    }
  } catch (const vkattn::Error&) {
  }
  return 0;
}
