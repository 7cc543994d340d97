// The op that writes a graph output into an application's image at the end of every run.
#pragma once
#include <memory>

#include "ops/op.h"
#include "vkattn/executor.h"

namespace vkattn {

// Checks that `image` can take output `name` of shape (B, C, H, W) and returns the write op (its
// kernel stores to the image at binding 0 and reads the output at binding 1). Device support for
// the format is the executor's to check.
std::shared_ptr<const Op> image_output(const std::string& name, const Shape& shape, const ImageOutput& image);

// The format vkattn views the image as when it writes it: R8G8B8A8_UNORM for an sRGB image (the
// kernel encodes), else the image's own.
VkFormat image_output_view_format(VkFormat format);

}  // namespace vkattn
