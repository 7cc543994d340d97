// Softmax and log_softmax over one dimension (shaders/softmax.glsl). Over the last dimension (or
// any whose later dimensions are all 1: its rows are contiguous too) one workgroup per row, or
// for rows of at most kShortRow one row per invocation. Over another dimension k of (B, ...),
// shaders/softmax_strided.comp: one invocation per row, whose elements lie `inner` (the product
// of the dimensions after k) apart.
#include "ops/op.h"
#include "ops/registry.h"
#include "softmax.spv.h"
#include "softmax_rows.spv.h"
#include "softmax_strided.spv.h"

namespace vkattn {
namespace {

constexpr uint64_t kShortRow = 256;  // the long-row kernel's workgroup size

struct Softmax final : Op {
  Softmax(bool log, int64_t dim) : log(log), dim(dim) {}
  bool log;     // log_softmax
  int64_t dim;  // as given: negative counts from the end
  std::string name() const override { return log ? "log_softmax" : "softmax"; }

  // dim from 0 on. The last dimension of any rank (a 1-D tensor is one row); others from 1 on.
  size_t axis(const Shape& s) const {
    const int64_t rank = int64_t(s.size()), k = dim < 0 ? dim + rank : dim;
    require(k >= 0 && k < rank, name() + ": dim " + std::to_string(dim) + " is outside an input of " +
                                    std::to_string(rank) + " dimensions " + to_string(s) + ".");
    require(k > 0 || rank == 1, name() + ": dim " + std::to_string(dim) + " is the batch, which it does not run over; give a dim from 1 to " +
                                    std::to_string(rank - 1) + " (or -1 to -" + std::to_string(rank - 1) + ").");
    return size_t(k);
  }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(!in[0].empty() && element_count(in[0]) >= 1,
            name() + ": the input must have at least one dimension and one element, but it is " + to_string(in[0]) + ".");
    axis(in[0]);
    return {in[0]};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& s = n.in_shape[0];
    const size_t k = axis(s);
    uint64_t inner = 1;  // elements from one element of a row to the next
    for (size_t d = k + 1; d < s.size(); ++d) inner *= s[d];
    const uint64_t L = s[k], rows = element_count(s) / L;
    // The leading dimension is the batch.
    const uint64_t batches = s.size() > 1 ? s[0] : 1, rows_per_batch = rows / batches;
    if (inner > 1) return strided(n, L, inner, batches, rows_per_batch);
    const bool short_rows = L <= kShortRow;
    Dispatch d{name() + (short_rows ? "_rows" : ""), short_rows ? std::span<const uint32_t>(softmax_rows_spv) : softmax_spv,
               {{n.in[0], 0, rows_per_batch * L}, {n.out[0], 0, rows_per_batch * L}},
               {u32(L), u32(rows_per_batch)}};
    if (log) d.specialization = {1u};  // softmax keeps the shader's default, and its one pipeline
    d.batches = batches;
    d.groups_per_batch = short_rows ? ceil_div(rows_per_batch, threads_per_group(d.spirv)) : rows_per_batch;
    return d;
  }

  // Rows of L elements `inner` apart; inner is a specialization constant (one pipeline per shape).
  Dispatch strided(const NodeShapes& n, uint64_t L, uint64_t inner, uint64_t batches, uint64_t rows_per_batch) const {
    Dispatch d{name() + "_strided", softmax_strided_spv,
               {{n.in[0], 0, rows_per_batch * L}, {n.out[0], 0, rows_per_batch * L}},
               {u32(L), u32(rows_per_batch)}};
    d.specialization = {log ? 1u : 0u, u32(inner)};
    d.batches = batches;
    d.groups_per_batch = ceil_div(rows_per_batch, threads_per_group(d.spirv));
    return d;
  }

  double flops(const NodeShapes& n) const override { return 5.0 * element_count(n.in_shape[0]); }
};

}  // namespace

TensorId ops::softmax(Graph& g, TensorId x) { return softmax(g, x, -1); }
TensorId ops::log_softmax(Graph& g, TensorId x) { return log_softmax(g, x, -1); }
TensorId ops::softmax(Graph& g, TensorId x, int64_t dim) { return add(g, std::make_shared<Softmax>(false, dim), {x})[0]; }
TensorId ops::log_softmax(Graph& g, TensorId x, int64_t dim) {
  return add(g, std::make_shared<Softmax>(true, dim), {x})[0];
}

// {"type": "softmax", "dim": d}, {"type": "log_softmax", "dim": d}: over dimension d of the value
// (B, ...), as torch.softmax(x, dim=d): d counts the batch as 0 and defaults to -1, the last (a
// classifier's classes after linear); a negative d counts from the end; d = 0, the batch, is refused.
void register_softmax(Registry& r) {
  for (const bool log : {false, true})
    r.add(log ? "log_softmax" : "softmax", LayerType{{"dim"}, false, [log](const LayerSpec& spec) -> AddLayer {
                                                       const int64_t dim = spec.signed_integer("dim", -1);
                                                       return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                                         return log ? ops::log_softmax(g, in[0], dim)
                                                                    : ops::softmax(g, in[0], dim);
                                                       };
                                                     }});
}

}  // namespace vkattn
