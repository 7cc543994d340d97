// The op that fills a graph input from an application's image at the head of every run.
#pragma once
#include <memory>

#include "ops/op.h"
#include "vkattn/executor.h"

namespace vkattn {

// Checks that `image` can feed input `name` of shape (1, C, H, W), C = 1, 3 or 4, and returns
// the conversion op (its kernel samples the image at binding 0 and writes the input at binding 1).
std::shared_ptr<const Op> image_input(const std::string& name, const Shape& shape, const ExternalImage& image);

}  // namespace vkattn
