// Attention without the map: softmax(score) v in one pass over blocks of keys, with an online
// softmax (shaders/fused_attention.glsl). Memory O(N C): the (N, N) scores are never stored. The
// score is scale q.k, or with additive weights u, scale sum_c u_c tanh(q_c + k_c). Keys and
// values are read as vec4 texels: rows laid out as ops::key_value_row says.
#include "fused_attention.spv.h"
#include "fused_attention_additive.spv.h"
#include "ops/op.h"
#include "ops/registry.h"
#include "spirv_reflect.h"

namespace vkattn {
namespace {

// What the shader fixes: its invocations per workgroup, value channels per invocation and the
// most queries per invocation.
struct Shader {
  uint64_t lanes, channels_per_invocation, queries_per_invocation;
};
Shader shader() {
  const ShaderInterface s = reflect(fused_attention_spv);
  return {s.local_size[0], s.spec_constant(1), s.spec_constant(2)};
}

// Queries per invocation: each fetched key and value serves that many queries, but below ~1000
// queries the most (8) leaves too few invocations and workgroups (the classifier's N = 196 was
// faster with 4).
uint64_t queries_per_invocation(uint64_t N, const Shader& sh) {
  return N >= 1024 ? sh.queries_per_invocation : std::min<uint64_t>(4, sh.queries_per_invocation);
}

constexpr uint64_t kMaxKeys = 2048;

struct Attention final : Op {
  Attention(ChannelSlice q, int64_t cv, float scale, bool additive, bool residual)
      : q_(q), cv_(cv), scale_(scale), additive_(additive), residual_(residual) {}
  std::string name() const override { return "attention"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[0], name(), "query");
    require(q_.count >= 1 && q_.first >= 0 && q_.first + q_.count <= in[0][1],
            "attention: the query channels lie outside their tensor " + to_string(in[0]) + ".");
    const int64_t B = in[0][0], N = spatial_size(in[0]);
    const Shape& kv = in[1];
    require(cv_ >= 1, "attention: it needs at least one value channel.");
    const int64_t row = ops::key_value_row(q_.count, cv_);
    require(kv.size() == 3 && kv[0] == B && kv[1] == N && kv[2] == row,
            "attention: keys and values for " + std::to_string(q_.count) + " key and " + std::to_string(cv_) +
                " value channels must be (" + std::to_string(B) + ", " + std::to_string(N) + ", " + std::to_string(row) +
                ") for queries " + to_string(in[0]) + ", but they are " + to_string(kv) + ".");
    Shape out = in[0];
    out[1] = cv_;
    if (residual_) {
      require(in[2] == out, "attention: the residual input must be " + to_string(out) + ", the output's shape, but it is " +
                                to_string(in[2]) + ".");
      require(element_count(in[3]) == 1, "attention: gamma must hold one value, but its shape is " + to_string(in[3]) + ".");
    }
    if (additive_) require_additive_weights(in.back(), q_.count, name());
    const int64_t groups = static_cast<int64_t>(ceil_div(cv_, shader().channels_per_invocation));
    return {out, {B, groups, 2, N}};  // the output, and each channel group's running max and sum
  }

  Dispatch dispatch(const NodeShapes&) const override {
    throw Error("Internal error: attention runs as one dispatch per key block (dispatches()).");
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shader sh = shader();
    const uint64_t B = n.in_shape[0][0], N = spatial_size(n.in_shape[0]), cq = q_.count;
    const uint64_t cv = n.out_shape[0][1], row = n.in_shape[1][2], groups = n.out_shape[1][1];
    const uint64_t per_lane = queries_per_invocation(N, sh);
    const uint64_t q_stride = n.in_shape[0][1] * N;
    // Keys per block: as many rows as one texel-buffer binding holds, and at most kMaxKeys so
    // that one dispatch's run time stays bounded (GPU watchdogs) whatever N is.
    const uint64_t fit = rows_per_block(N, row, device, BindAs::Vec4Texels, "attention: one key and value");
    const uint64_t per_block = ceil_div(N, ceil_div(N, std::min(fit, kMaxKeys)));
    // q, stats, o and x a vec4 of 4 queries at a time where every lane's queries are whole vec4s.
    const bool vec4 = per_lane % 4 == 0 && N % 4 == 0;
    const BindAs by_query = vec4 ? BindAs::Vec4Storage : BindAs::Storage;
    const uint64_t items = items_per_unit(
        B, {{q_stride, by_query}, {N * row, BindAs::Vec4Texels}, {groups * 2 * N, by_query}, {cv * N, by_query}}, device);
    const uint64_t query_groups = ceil_div(items * ceil_div(N, per_lane), sh.lanes);
    const std::string kernel = additive_ ? "attention_additive" : name();
    const std::span<const uint32_t> spirv =
        additive_ ? std::span<const uint32_t>(fused_attention_additive_spv) : fused_attention_spv;
    std::vector<Dispatch> out;
    for (uint64_t j0 = 0; j0 < N; j0 += per_block) {
      const uint64_t keys = std::min(per_block, N - j0);
      Dispatch d{kernel, spirv,
                 {{n.in[0], q_.first * N, items * q_stride, 0, by_query},
                  {n.in[1], j0 * row, items * N * row, (items - 1) * N * row + keys * row, BindAs::Vec4Texels},
                  {n.out[1], 0, items * groups * 2 * N, 0, by_query},
                  {n.out[0], 0, items * cv * N, 0, by_query},
                  // Without the residual, x is o again (same indices, read and ignored) and gamma q.
                  Operand{residual_ ? n.in[2] : n.out[0], 0, items * cv * N, 0, by_query},
                  residual_ ? Operand{n.in[3]} : Operand{n.in[0], q_.first * N, items * q_stride}},
                 {u32(N), u32(cv), u32(q_stride), u32(N * row), u32(keys), u32(query_groups), j0 == 0,
                  j0 + keys == N, bits(scale_), residual_, u32(items)}};
      if (additive_) d.operands.push_back({n.in.back()});
      d.batches = B / items;
      d.groups_per_batch = query_groups * groups;
      d.specialization = {u32(cq), u32(sh.channels_per_invocation), u32(per_lane), vec4};
      out.push_back(std::move(d));
    }
    return out;
  }

  double flops(const NodeShapes& n) const override {
    const double N = spatial_size(n.in_shape[0]);
    return 2.0 * n.in_shape[0][0] * N * N * n.in_shape[1][2];
  }

 private:
  ChannelSlice q_;
  int64_t cv_;
  float scale_;
  bool additive_, residual_;
};

}  // namespace

ops::FusedAttention ops::attention(Graph& g, ChannelSlice query, TensorId kv, int64_t value_channels, float scale,
                                   std::optional<TensorId> additive, std::optional<ResidualInput> residual) {
  std::vector<TensorId> in = {query.tensor, kv};
  if (residual) in.insert(in.end(), {residual->x, residual->gamma});
  if (additive) in.push_back(*additive);
  const auto out = add(
      g, std::make_shared<Attention>(query, value_channels, scale, additive.has_value(), residual.has_value()), in);
  return {out[0], out[1]};
}

// Part of the self_attention layer.
void register_attention(Registry& r) { r.add("attention"); }

}  // namespace vkattn
