// Host-side tensors: float32, C order (the last dimension varies fastest).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vkattn {

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for a scalar shape {}).
int64_t element_count(const Shape& shape);

// "(2, 64, 32, 32)"
std::string to_string(const Shape& shape);

struct HostTensor {
  Shape shape;
  std::vector<float> data;  // element_count(shape) values
};

}  // namespace vkattn
