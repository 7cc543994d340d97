// The attention map from the fused attention's statistics (shaders/attention_map.comp), in
// blocks of rows that each fit one storage binding: a map of any size the device's memory holds.
#include "attention_map.spv.h"
#include "attention_map_additive.spv.h"
#include "ops/op.h"
#include "ops/registry.h"
#include "spirv_reflect.h"

namespace vkattn {
namespace {

struct AttentionMap final : Op {
  AttentionMap(ChannelSlice q, float scale, bool additive) : q_(q), scale_(scale), additive_(additive) {}
  std::string name() const override { return "attention_map"; }

  // in: q (B, C, ...), kv (B, N, Cq + Cv), stats (B, groups, 2, N).
  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[0], name(), "query");
    require(q_.count >= 1 && q_.first >= 0 && q_.first + q_.count <= in[0][1],
            "attention_map: the query channels lie outside their tensor " + to_string(in[0]) + ".");
    const int64_t B = in[0][0], N = spatial_size(in[0]);
    require(in[1].size() == 3 && in[1][0] == B && in[1][1] == N && in[1][2] >= q_.count,
            "attention_map: keys must be (" + std::to_string(B) + ", " + std::to_string(N) + ", >= " +
                std::to_string(q_.count) + ") for queries " + to_string(in[0]) + ", but they are " + to_string(in[1]) + ".");
    require(in[2].size() == 4 && in[2][0] == B && in[2][1] >= 1 && in[2][2] == 2 && in[2][3] == N,
            "attention_map: the statistics must be (" + std::to_string(B) + ", groups, 2, " + std::to_string(N) +
                "), but they are " + to_string(in[2]) + ".");
    if (additive_) require_additive_weights(in[3], q_.count, name());
    return {{B, N, N}};
  }

  Dispatch dispatch(const NodeShapes&) const override {
    throw Error("Internal error: attention_map runs as one dispatch per block of rows (dispatches()).");
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const ShaderInterface shader = reflect(attention_map_spv);
    const uint64_t B = n.in_shape[0][0], N = spatial_size(n.in_shape[0]), row = n.in_shape[1][2];
    const uint64_t q_stride = n.in_shape[0][1] * N, stats_stride = n.in_shape[2][1] * 2 * N;
    const uint64_t rows_per_group = shader.spec_constant(1), column_groups = ceil_div(N, shader.local_size[0]);
    const uint64_t per_block = rows_per_block(N, N, device, BindAs::Storage, "attention_map: one row of the map");
    const std::string kernel = additive_ ? "attention_map_additive" : name();
    const std::span<const uint32_t> spirv =
        additive_ ? std::span<const uint32_t>(attention_map_additive_spv) : attention_map_spv;
    std::vector<Dispatch> out;
    for (uint64_t i0 = 0; i0 < N; i0 += per_block) {
      const uint64_t rows = std::min(per_block, N - i0);
      Dispatch d{kernel, spirv,
                 {{n.in[0], q_.first * N, q_stride},
                  {n.in[1], 0, N * row},
                  {n.in[2], 0, stats_stride},
                  {n.out[0], i0 * N, N * N, rows * N}},
                 {u32(N), u32(q_stride), u32(row), u32(stats_stride), u32(i0), u32(rows), u32(column_groups),
                  bits(scale_)}};
      if (additive_) d.operands.push_back({n.in[3]});
      d.batches = B;
      d.groups_per_batch = column_groups * ceil_div(rows, rows_per_group);
      d.specialization = {u32(q_.count)};
      out.push_back(std::move(d));
    }
    return out;
  }

  double flops(const NodeShapes& n) const override {
    const double N = spatial_size(n.in_shape[0]);
    return n.in_shape[0][0] * N * N * (2.0 * q_.count + 2);
  }

 private:
  ChannelSlice q_;
  float scale_;
  bool additive_;
};

}  // namespace

TensorId ops::attention_map(Graph& g, ChannelSlice query, TensorId kv, TensorId stats, float scale,
                            std::optional<TensorId> additive) {
  std::vector<TensorId> in = {query.tensor, kv, stats};
  if (additive) in.push_back(*additive);
  return add(g, std::make_shared<AttentionMap>(query, scale, additive.has_value()), in)[0];
}

// Part of the self_attention layer when its map is asked for.
void register_attention_map(Registry& r) { r.add("attention_map"); }

}  // namespace vkattn
