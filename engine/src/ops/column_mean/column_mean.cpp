// Mean over the rows of each item's (R, L) matrix (shaders/column_mean.comp): from an attention
// map, the attention each position receives. Read in blocks of rows that each fit one binding.
#include "column_mean.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct ColumnMean final : Op {
  std::string name() const override { return "column_mean"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() == 3 && element_count(x) >= 1,
            name() + ": the input must be (B, R, L), but it is " + to_string(x) + ".");
    return {{x[0], x[2]}};
  }

  Dispatch dispatch(const NodeShapes&) const override {
    throw Error("Internal error: column_mean runs as one dispatch per block of rows (dispatches()).");
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const uint64_t B = n.in_shape[0][0], R = n.in_shape[0][1], L = n.in_shape[0][2];
    const uint64_t per_block = rows_per_block(R, L, device, BindAs::Storage, "column_mean: one row");
    std::vector<Dispatch> out;
    for (uint64_t i0 = 0; i0 < R; i0 += per_block) {
      const uint64_t rows = std::min(per_block, R - i0);
      Dispatch d{name(), column_mean_spv, {{n.in[0], i0 * L, R * L, rows * L}, {n.out[0], 0, L}},
                 {u32(L), u32(R * L), u32(rows), u32(R), u32(i0 > 0)}};
      d.batches = B;
      d.groups_per_batch = ceil_div(L, threads_per_group(column_mean_spv));
      out.push_back(std::move(d));
    }
    return out;
  }

  double flops(const NodeShapes& n) const override { return double(element_count(n.in_shape[0])); }
};

}  // namespace

TensorId ops::column_mean(Graph& g, TensorId x) { return add(g, std::make_shared<ColumnMean>(), {x})[0]; }

// Part of the attention_crop layer.
void register_column_mean(Registry& r) { r.add("column_mean"); }

}  // namespace vkattn
