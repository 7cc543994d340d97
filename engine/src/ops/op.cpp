#include "ops/op.h"

namespace vkattn {

int64_t spatial_size(const Shape& shape) {
  int64_t n = 1;
  for (size_t i = 2; i < shape.size(); ++i) n *= shape[i];
  return n;
}

void require_activation(const Shape& shape, const std::string& op, const std::string& what) {
  require((shape.size() == 3 || shape.size() == 4) && element_count(shape) >= 1,
          op + ": the " + what + " must be (B, C, H, W) or (B, C, N) with no zero size, but it is " +
              to_string(shape) + ".");
}

Dispatch gemm_dispatch(std::string kernel, std::span<const uint32_t> spirv, std::vector<Operand> operands,
                       uint64_t batches, const Gemm& g) {
  constexpr uint64_t kTile = 64;  // BM = BN in shaders/gemm.glsl
  const uint64_t tiles_n = ceil_div(g.N, kTile), tiles_m = ceil_div(g.M, kTile);
  Dispatch d{std::move(kernel), spirv, std::move(operands),
             {u32(g.M), u32(g.N), u32(g.K), u32(g.a_stride), u32(g.b_stride), u32(g.c_stride), u32(tiles_n),
              bits(g.alpha)}};
  d.batches = batches;
  d.groups_per_batch = tiles_m * tiles_n;
  return d;
}

}  // namespace vkattn
