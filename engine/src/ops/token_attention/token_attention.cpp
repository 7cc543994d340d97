// Attention over tokens as transformers write it, softmax(scale q k^T + bias) v on (B, ..., N, d)
// tensors, fused: one pass over the keys with an online softmax (shaders/token_attention.comp),
// so no (Nq, Nk) scores exist unless the map is asked for, and then a second kernel recomputes it
// from the first one's per-query max and sum (shaders/token_attention_map.comp).
#include <cmath>
#include <limits>

#include "ops/op.h"
#include "ops/registry.h"
#include "spirv_reflect.h"
#include "token_attention.spv.h"
#include "token_attention_map.spv.h"

namespace vkattn {
namespace {

// Every dimension between the batch and the rows is a head: T of them.
int64_t heads_of(const Shape& s) {
  int64_t t = 1;
  for (size_t d = 1; d + 2 < s.size(); ++d) t *= s[d];
  return t;
}

// How the kernels walk the bias, in elements: its strides along the batch, the heads split in two
// (outer x inner = T), the query rows and the key columns; 0 where it repeats.
struct BiasWalk {
  uint64_t batch = 0, outer = 0, inner_count = 1, inner = 0, row = 0, column = 0;
};

// The bias's walk over scores of shape `scores`, or an Error where it does not broadcast or where
// its repeats over the heads do not fold into two strides.
BiasWalk bias_walk(const Shape& bias, const Shape& scores) {
  const size_t R = scores.size();
  require(bias.size() <= R, "token_attention: the bias " + to_string(bias) + " has more dimensions than the scores " +
                                to_string(scores) + ".");
  Shape b(R - bias.size(), 1);
  b.insert(b.end(), bias.begin(), bias.end());
  std::vector<uint64_t> stride(R, 0);
  uint64_t s = 1;
  for (size_t d = R; d-- > 0;) {
    require(b[d] == scores[d] || b[d] == 1, "token_attention: the bias " + to_string(bias) +
                                                " does not broadcast to the scores " + to_string(scores) + ".");
    stride[d] = b[d] == 1 ? 0 : s;
    s *= b[d];
  }
  BiasWalk w;
  w.batch = stride[0];
  w.row = stride[R - 2];
  w.column = stride[R - 1];
  // The heads' dimensions, each merged into the one before it where it continues it.
  std::vector<std::pair<uint64_t, uint64_t>> heads;  // (count, stride)
  for (size_t d = 1; d + 2 < R; ++d) {
    if (scores[d] == 1) continue;
    if (!heads.empty() && heads.back().second == stride[d] * scores[d]) {
      heads.back() = {heads.back().first * scores[d], stride[d]};
    } else {
      heads.push_back({uint64_t(scores[d]), stride[d]});
    }
  }
  require(heads.size() <= 2, "token_attention: the bias " + to_string(bias) + " repeats over the heads of " +
                                 to_string(scores) + " in more than two runs; give it the heads' full shape.");
  if (heads.size() == 2) w.outer = heads[0].second;
  if (!heads.empty()) w.inner_count = heads.back().first, w.inner = heads.back().second;
  return w;
}

struct Layout {
  uint64_t B, T, nq, nk, d, dv;
};
Layout layout_of(const Shape& q, const Shape& k, const Shape& v) {
  return {uint64_t(q[0]), uint64_t(heads_of(q)), uint64_t(q[q.size() - 2]), uint64_t(k[k.size() - 2]),
          uint64_t(q.back()), uint64_t(v.back())};
}

Shape scores_shape(const Shape& q, const Shape& k) {
  Shape s = q;
  s.back() = k[k.size() - 2];
  return s;
}

// The push constants both kernels share (token_attention.glsl's Push after the header).
std::vector<uint32_t> push_of(const Layout& l, const BiasWalk& b, uint64_t qblocks, float scale) {
  return {u32(l.nq),     u32(l.nk),       u32(l.T),           u32(b.inner_count), u32(l.nq * l.d), u32(l.d),
          u32(l.nk * l.d), u32(l.d),      u32(l.nk * l.dv),   u32(l.dv),          u32(l.nq * l.dv), u32(l.dv),
          u32(b.batch),  u32(b.outer),    u32(b.inner),       u32(b.row),         u32(b.column),   u32(l.dv),
          u32(qblocks),  bits(scale)};
}

// Binding 4 of both kernels: the bias, walked per batch item (a constant's whole tensor when it
// repeats over the batch); without one, q stands in, never read.
Operand bias_operand(const NodeShapes& n, const BiasWalk& b, bool bias) {
  if (!bias) return {n.in[0], 0, uint64_t(element_count(n.in_shape[0]) / n.in_shape[0][0])};
  return {n.in[3], 0, b.batch, b.batch ? 0 : uint64_t(element_count(n.in_shape[3]))};
}

// k and v as RGBA32F texels where every row and head starts on a whole texel.
bool texel4(const Layout& l) { return l.d % 4 == 0 && l.dv % 4 == 0; }

struct FusedTokenAttention final : Op {
  FusedTokenAttention(float scale, bool bias, bool stats) : scale_(scale), bias_(bias), stats_(stats) {}
  std::string name() const override { return "token_attention"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &q = in[0], &k = in[1], &v = in[2];
    require(q.size() >= 3 && element_count(q) >= 1,
            "token_attention: the queries must be (B, ..., N, d) with no zero size, but they are " + to_string(q) + ".");
    const size_t R = q.size();
    require(k.size() == R && v.size() == R && element_count(k) >= 1 && element_count(v) >= 1,
            "token_attention: keys " + to_string(k) + " and values " + to_string(v) + " must have the " +
                std::to_string(R) + " dimensions of the queries " + to_string(q) + " and no zero size.");
    require(Shape(k.begin(), k.end() - 2) == Shape(q.begin(), q.end() - 2) && k.back() == q.back(),
            "token_attention: the keys " + to_string(k) + " must match the queries " + to_string(q) +
                " in every dimension but the rows.");
    require(Shape(v.begin(), v.end() - 1) == Shape(k.begin(), k.end() - 1),
            "token_attention: the values " + to_string(v) + " must have the keys' " + to_string(k) +
                " dimensions but the last.");
    if (bias_) bias_walk(in[3], scores_shape(q, k));
    Shape out = q;
    out.back() = v.back();
    for (const Shape& s : {q, k, v, out})
      require(element_count(s) / s[0] < (int64_t{1} << 31), "token_attention: " + to_string(s) + " is too large.");
    std::vector<Shape> shapes = {out};
    if (stats_) shapes.push_back({q[0], heads_of(q), 2, q[R - 2]});
    return shapes;
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Layout l = layout_of(n.in_shape[0], n.in_shape[1], n.in_shape[2]);
    const BiasWalk b = bias_ ? bias_walk(n.in_shape[3], scores_shape(n.in_shape[0], n.in_shape[1])) : BiasWalk{};
    const ShaderInterface shader = reflect(token_attention_spv);
    const uint64_t per_group = channels_per_lane(l.dv, shader.spec_constant(1)), qb = shader.spec_constant(2);
    const uint64_t qblocks = ceil_div(l.nq, qb), lanes = shader.local_size[0];
    const BindAs as = texel4(l) ? BindAs::Vec4Texels : BindAs::FloatTexels;
    const TensorId out = n.out[0];
    Dispatch d{"token_attention", token_attention_spv,
               {{n.in[0], 0, l.T * l.nq * l.d},
                {n.in[1], 0, l.T * l.nk * l.d, 0, as},
                {n.in[2], 0, l.T * l.nk * l.dv, 0, as},
                {out, 0, l.T * l.nq * l.dv},
                bias_operand(n, b, bias_),
                stats_ ? Operand{n.out[1], 0, l.T * 2 * l.nq} : Operand{out, 0, l.T * l.nq * l.dv}},
               push_of(l, b, qblocks, scale_)};
    d.batches = l.B;
    d.groups_per_batch = ceil_div(l.dv, per_group) * ceil_div(l.T * qblocks, lanes);
    d.specialization = {u32(l.d), u32(per_group), u32(qb), texel4(l), bias_, stats_};
    return d;
  }

  double flops(const NodeShapes& n) const override {
    const Layout l = layout_of(n.in_shape[0], n.in_shape[1], n.in_shape[2]);
    return 2.0 * double(l.B * l.T * l.nq * l.nk) * double(l.d + l.dv);
  }

 private:
  float scale_;
  bool bias_, stats_;
};

// Inputs q, k, stats [, bias]; makes the map (B, ..., Nq, Nk).
struct TokenAttentionMap final : Op {
  TokenAttentionMap(float scale, bool bias) : scale_(scale), bias_(bias) {}
  std::string name() const override { return "token_attention_map"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape s = scores_shape(in[0], in[1]);
    require(element_count(s) / s[0] < (int64_t{1} << 32), "token_attention: the map " + to_string(s) + " is too large.");
    return {s};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &q = n.in_shape[0], &k = n.in_shape[1];
    const Layout l = layout_of(q, k, k);  // no values: dv is only read by FusedTokenAttention
    const BiasWalk b = bias_ ? bias_walk(n.in_shape[3], scores_shape(q, k)) : BiasWalk{};
    const BindAs as = l.d % 4 == 0 ? BindAs::Vec4Texels : BindAs::FloatTexels;
    const uint64_t per_item = l.T * l.nq * l.nk;
    Dispatch d{"token_attention_map", token_attention_map_spv,
               {{n.in[0], 0, l.T * l.nq * l.d},
                {n.in[1], 0, l.T * l.nk * l.d, 0, as},
                {n.in[1], 0, l.T * l.nk * l.d, 0, as},  // v: not read
                {n.out[0], 0, per_item},
                bias_operand(n, b, bias_),
                {n.in[2], 0, l.T * 2 * l.nq}},
               push_of(l, b, 0, scale_)};
    d.batches = l.B;
    d.groups_per_batch = ceil_div(per_item, threads_per_group(token_attention_map_spv));
    d.specialization = {u32(l.d), 4, 1, as == BindAs::Vec4Texels, bias_, true};
    return d;
  }

  double flops(const NodeShapes& n) const override {
    return 2.0 * double(element_count(n.out_shape[0])) * double(n.in_shape[0].back());
  }

 private:
  float scale_;
  bool bias_;
};

}  // namespace

ops::TokenAttention ops::token_attention(Graph& g, TensorId q, TensorId k, TensorId v, std::optional<TensorId> bias,
                                         std::optional<float> scale, bool map) {
  const float s = scale ? *scale : 1.f / std::sqrt(float(g.shape(q).empty() ? 1 : g.shape(q).back()));
  std::vector<TensorId> in = {q, k, v};
  if (bias) in.push_back(*bias);
  const auto made = add(g, std::make_shared<FusedTokenAttention>(s, bias.has_value(), map), in);
  if (!map) return {made[0], std::nullopt};
  std::vector<TensorId> map_in = {q, k, made[1]};
  if (bias) map_in.push_back(*bias);
  return {made[0], add(g, std::make_shared<TokenAttentionMap>(s, bias.has_value()), map_in)[0]};
}

// {"type": "scaled_dot_product_attention", "inputs": [q, k, v] or [q, k, v, bias]}: as
// F.scaled_dot_product_attention without dropout, softmax(scale q k^T + bias) v on (B, ..., N, d)
// tokens. "scale" (default 1/sqrt(d)); "bias": the name of a constant in the file instead of a
// fourth input (Swin's relative position bias, an additive mask), "mask": a constant of 0s and 1s
// (the bias's shape, if both) whose 1s mask a key (-inf, which a file does not hold). "outputs":
// [o, map] also makes the softmax weights (B, ..., Nq, Nk) a value. "name" (optional) names the
// layer's map among the attention maps a caller asks for (their mean over the heads, (B, Nq, Nk)).
void register_token_attention(Registry& r) {
  r.add("token_attention");
  r.add("token_attention_map");
  LayerType type{{"scale", "bias", "mask"}, false, [](const LayerSpec& spec) -> AddLayer {
                   const std::optional<float> scale =
                       spec.has("scale") ? std::optional<float>(spec.number("scale", 1.f)) : std::nullopt;
                   const auto constant = [&](const char* key) {
                     const std::string label = spec.text(key, "");
                     const auto it = spec.file().tensors.find(label);
                     require(it != spec.file().tensors.end(), "the file holds no tensor called '" + label + "'.");
                     return it->second;
                   };
                   std::optional<HostTensor> bias;
                   if (spec.has("bias")) bias = constant("bias");
                   if (spec.has("mask")) {  // files hold finite numbers: -inf comes from a mask of 0s and 1s
                     const HostTensor mask = constant("mask");
                     require(!bias || bias->shape == mask.shape, "its mask " + to_string(mask.shape) +
                                                                    " and bias " + to_string(bias->shape) +
                                                                    " must have one shape.");
                     if (!bias) bias = HostTensor{mask.shape, std::vector<float>(mask.data.size(), 0.f)};
                     for (size_t i = 0; i < mask.data.size(); ++i)
                       if (mask.data[i] != 0.f) bias->data[i] = -std::numeric_limits<float>::infinity();
                   }
                   const std::string label = spec.has("bias") ? spec.text("bias", "") : spec.text("mask", "");
                   const std::string name = spec.name().empty() ? "scaled_dot_product_attention" : spec.name();
                   return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild& out) {
                     require(in.size() == 3 || (!bias && in.size() == 4),
                             std::string("it reads q, k and v") + (bias ? "" : " and optionally a bias") +
                                 ", but it is given " + std::to_string(in.size()) + " values.");
                     std::optional<TensorId> b;
                     if (bias) b = g.weight(label, *bias);
                     if (in.size() == 4) b = in[3];
                     const auto a = ops::token_attention(g, in[0], in[1], in[2], b, scale,
                                                         out.outputs_wanted > 1 || out.made.attention_maps);
                     if (out.outputs_wanted > 1) out.more_outputs.push_back(*a.map);
                     if (out.made.attention_maps) {  // the maps a caller asks of every attention layer: (B, Nq, Nk)
                       TensorId map = *a.map;
                       const size_t rank = g.shape(map).size();
                       std::vector<int64_t> heads;
                       for (size_t d = 1; d + 2 < rank; ++d) heads.push_back(int64_t(d));
                       if (!heads.empty()) map = ops::mean(g, map, heads);
                       out.made.attention.emplace_back(name, map);
                     }
                     return a.out;
                   };
                 }};
  type.min_inputs = 3;
  type.max_inputs = 4;
  type.max_outputs = 2;
  r.add("scaled_dot_product_attention", type);
}

}  // namespace vkattn
