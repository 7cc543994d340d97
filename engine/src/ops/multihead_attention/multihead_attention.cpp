#include "vkattn/multihead_attention.h"

#include <cmath>

#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// Rows [first, first + count) of a (R, K) matrix, or of a vector when it is one-dimensional.
HostTensor rows(const HostTensor& t, int64_t first, int64_t count) {
  const int64_t K = t.shape.size() == 2 ? t.shape[1] : 1;
  HostTensor out{t.shape.size() == 2 ? Shape{count, K} : Shape{count}, {}};
  out.data.assign(t.data.begin() + first * K, t.data.begin() + (first + count) * K);
  return out;
}

// Columns [first, first + count) of a (R, K) matrix.
HostTensor columns(const HostTensor& t, int64_t first, int64_t count) {
  HostTensor out{{t.shape[0], count}, {}};
  for (int64_t r = 0; r < t.shape[0]; ++r)
    out.data.insert(out.data.end(), t.data.begin() + r * t.shape[1] + first,
                    t.data.begin() + r * t.shape[1] + first + count);
  return out;
}

}  // namespace

MultiheadAttentionWeights MultiheadAttentionWeights::from_safetensors(const SafeTensors& f, const std::string& prefix,
                                                                      int64_t heads, bool residual) {
  MultiheadAttentionWeights w;
  w.in_proj_weight = f.at(prefix + "in_proj_weight");
  const Shape& in = w.in_proj_weight.shape;
  require(in.size() == 2 && in[1] >= 1 && in[0] == 3 * in[1],
          "'" + f.source + "': '" + prefix + "in_proj_weight' must have shape (3C, C), but it is " + to_string(in) + ".");
  const int64_t C = in[1];
  w.channels = C;
  w.heads = heads;
  w.residual = residual;
  require(heads >= 1, "'" + f.source + "': a multihead_attention layer needs at least one head.");
  require(C % heads == 0, "'" + f.source + "': " + std::to_string(heads) + " heads do not divide the " +
                              std::to_string(C) + " channels of '" + prefix + "in_proj_weight'.");
  w.in_proj_bias = f.at(prefix + "in_proj_bias");
  w.out_proj_weight = f.at(prefix + "out_proj.weight");
  w.out_proj_bias = f.at(prefix + "out_proj.bias");
  const std::pair<const HostTensor*, Shape> expected[] = {
      {&w.in_proj_bias, {3 * C}}, {&w.out_proj_weight, {C, C}}, {&w.out_proj_bias, {C}}};
  const char* names[] = {"in_proj_bias", "out_proj.weight", "out_proj.bias"};
  for (int i = 0; i < 3; ++i)
    require(expected[i].first->shape == expected[i].second, "'" + f.source + "': '" + prefix + names[i] +
                                                                "' must have shape " + to_string(expected[i].second) +
                                                                " but it is " + to_string(expected[i].first->shape) + ".");
  return w;
}

MultiheadAttentionTensors add_multihead_attention(Graph& g, TensorId x, const MultiheadAttentionWeights& w,
                                                  const std::string& prefix, bool attention_map, bool head_maps) {
  const int64_t C = w.channels, h = w.heads;
  require(C >= 1 && h >= 1 && C % h == 0, "multihead_attention: " + std::to_string(h) + " heads do not divide " +
                                              std::to_string(C) + " channels.");
  const Shape& xs = g.shape(x);
  require(xs.size() == 4 && xs[1] == C, "multihead_attention: the input must be (B, " + std::to_string(C) +
                                            ", H, W), but it is " + to_string(xs) + ".");
  const int64_t d = C / h;
  const float scale = 1.f / std::sqrt(float(d));
  const TensorId one = g.weight(prefix + "one", HostTensor{{1}, {1.f}});
  // All queries in one projection, channel-major: head t reads channels [t d, (t + 1) d).
  const TensorId q = ops::projection(g, x, g.weight(prefix + "query.weight", rows(w.in_proj_weight, 0, C)),
                                     g.weight(prefix + "query.bias", rows(w.in_proj_bias, 0, C)));
  g.name_node(q, prefix + "query");
  std::optional<TensorId> y, map;
  std::vector<TensorId> maps;  // each head's, for head_maps
  for (int64_t t = 0; t < h; ++t) {
    const std::string head = prefix + "head" + std::to_string(t) + ".";
    // This head's keys then values, position-major, as the fused attention reads them.
    const HostTensor k = rows(w.in_proj_weight, C + t * d, d), v = rows(w.in_proj_weight, 2 * C + t * d, d);
    const HostTensor kb = rows(w.in_proj_bias, C + t * d, d), vb = rows(w.in_proj_bias, 2 * C + t * d, d);
    const TensorId kv = ops::projection(g, x, g.weight(head + "kv.weight", key_value_rows(k, v, C)),
                                        g.weight(head + "kv.bias", key_value_rows(kb, vb, 0)), true);
    const auto attention = ops::attention(g, {q, t * d, d}, kv, d, scale);
    // out_proj on the concatenated heads is the sum of its column blocks applied to each head.
    const HostTensor bias = t == 0 ? w.out_proj_bias : HostTensor{{C}, std::vector<float>(C, 0.f)};
    const TensorId part = ops::projection(g, attention.out, g.weight(head + "out.weight", columns(w.out_proj_weight, t * d, d)),
                                          g.weight(head + "out.bias", bias));
    g.name_node(kv, head + "key_value");
    g.name_node(attention.out, head + "fused");
    g.name_node(part, head + "out_proj");
    y = y ? ops::residual(g, part, *y, one) : part;
    if (attention_map || head_maps) {
      const TensorId a = ops::attention_map(g, {q, t * d, d}, kv, attention.stats, scale);
      g.name_node(a, head + "map");
      if (attention_map) map = map ? ops::residual(g, a, *map, one) : a;
      maps.push_back(a);
    }
  }
  if (w.residual) y = ops::residual(g, *y, x, one);
  g.name_node(*y, prefix + "output");
  if (map && h > 1) {
    // The heads' mean: the sum S, then (1/h - 1) S + S.
    map = ops::residual(g, *map, *map, g.weight(prefix + "mean", HostTensor{{1}, {1.f / float(h) - 1.f}}));
    g.name_node(*map, prefix + "map");
  }
  std::optional<TensorId> stacked;
  if (head_maps) {
    stacked = ops::stack(g, maps);
    g.name_node(*stacked, prefix + "head_maps");
  }
  return {*y, map, stacked};
}

// {"type": "multihead_attention", "name": P, "heads": h, "residual": r}: nn.MultiheadAttention(C, h)
// over the H*W positions as tokens (q = k = v = x), weights P.in_proj_weight (3C, C),
// P.in_proj_bias (3C), P.out_proj.weight (C, C), P.out_proj.bias (C); h (default 1) divides C;
// with r (default false) the input is added to the output. In a format-2 node, "outputs": [y, map]
// also makes the heads' mean map (B, N, N) a value.
void register_multihead_attention(Registry& r) {
  r.add("multihead_attention", LayerType{{"heads", "residual"}, true, [](const LayerSpec& spec) -> AddLayer {
          const MultiheadAttentionWeights w = MultiheadAttentionWeights::from_safetensors(
              spec.file(), spec.name() + ".", spec.integer("heads", 1), spec.flag("residual", false));
          return attention_layer("multihead_attention", spec.name(),
                                 [w](Graph& g, TensorId x, const std::string& prefix, bool maps) {
                                   return add_multihead_attention(g, x, w, prefix, maps);
                                 });
        },
        1, 1, 2});
}

}  // namespace vkattn
