// Host-side tensors: float32, C order (the last dimension varies fastest).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vkattn {

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for a scalar shape {}).
int64_t element_count(const Shape& shape);
// The same for sizes read from files: nullopt for a negative size or a count past limit, found
// before the product can wrap.
std::optional<uint64_t> element_count_at_most(const Shape& shape, uint64_t limit);

// "(2, 64, 32, 32)"
std::string to_string(const Shape& shape);

struct HostTensor {
  Shape shape;
  std::vector<float> data;  // element_count(shape) values
};

}  // namespace vkattn
