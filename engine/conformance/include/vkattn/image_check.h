// What an image output must hold (ImageOutput's rules, computed on the host) and the comparison
// of an image's texels with it, shared by the conformance suite and the tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vkattn/executor.h"

namespace vkattn::conformance {

// Bytes per texel of an ImageOutput format (4, 8 or 16).
uint32_t texel_bytes(VkFormat format);

// Compares the texels of an image (all layers, tightly packed, in `image.format`) with what the
// output tensor (B, C, H, W) must become: the affine mapping exact for float formats (a half
// either side of the value for R16G16B16A16_SFLOAT, as Vulkan lets a conversion round either
// way), within 1e-6 (1e-3 for half) where a colour map's arithmetic is involved, within one unit
// for 8-bit formats (sRGB: of the encoded value). Returns "" or the first texels that differ.
std::string compare_texels(const ImageOutput& image, const Shape& shape, const std::vector<float>& tensor,
                           const unsigned char* texels);

}  // namespace vkattn::conformance
