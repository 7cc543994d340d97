// Any bytes as a picture for the sample classifier: either a vkattn::Error or 28x28 values in [0, 1].
#include "../samples/classify/image.h"
#include "invariants.h"
#include "vkattn/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const PreparedImage image = prepare_image_bytes({reinterpret_cast<const char*>(data), size}, 28, "input");
    fuzz::expect(image.pixels.size() == 28 * 28, "a prepared image is not 28x28");
    for (float v : image.pixels) fuzz::expect(v >= 0.f && v <= 1.f, "a prepared pixel is outside [0, 1]");
  } catch (const vkattn::Error&) {
  }
  return 0;
}
