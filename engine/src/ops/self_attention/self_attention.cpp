#include "vkattn/self_attention.h"

#include <cmath>

#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// A 1x1 convolution weight: (M, C, 1, 1) or (M, C).
void require_conv_weight(const SafeTensors& f, const std::string& name, const HostTensor& w) {
  const bool ok = (w.shape.size() == 4 && w.shape[2] == 1 && w.shape[3] == 1) || w.shape.size() == 2;
  require(ok && w.shape[0] >= 1 && w.shape[1] >= 1,
          "'" + f.source + "': '" + name + "' must be a 1x1 convolution weight (M, C, 1, 1), but it is " +
              to_string(w.shape) + ".");
}

void require_shape(const SafeTensors& f, const std::string& name, const HostTensor& t, const Shape& want) {
  require(t.shape == want, "'" + f.source + "': '" + name + "' must have shape " + to_string(want) + " but it is " +
                               to_string(t.shape) + ".");
}

// A number written as text in metadata: the whole string, finite.
float parse_scale(const std::string& text, const std::string& where) {
  size_t used = 0;
  float v = 0;
  try {
    v = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == text.size() && !text.empty() && std::isfinite(v),
          where + " must be a finite number, but it is '" + text + "'.");
  return v;
}

// The additive similarity's u: <prefix>additive.weight, (1, Cq) or (Cq).
HostTensor read_additive_weight(const SafeTensors& f, const std::string& prefix, int64_t Cq) {
  const std::string name = prefix + "additive.weight";
  HostTensor u = f.at(name);
  require(element_count(u.shape) == Cq && (u.shape.size() == 1 || (u.shape.size() == 2 && u.shape[0] == 1)),
          "'" + f.source + "': '" + name + "' must have shape (1, " + std::to_string(Cq) + ") but it is " +
              to_string(u.shape) + ".");
  u.shape = {1, Cq};
  return u;
}

}  // namespace

Similarity parse_similarity(const std::string& name, const std::string& where) {
  if (name == "dot") return Similarity::dot;
  if (name == "scaled_dot") return Similarity::scaled_dot;
  if (name == "cosine") return Similarity::cosine;
  if (name == "additive") return Similarity::additive;
  throw Error(where + ": similarity '" + name + "' is not one of dot, scaled_dot, cosine, additive.");
}

float default_scale(Similarity similarity, int64_t query_channels) {
  return similarity == Similarity::scaled_dot ? 1.f / std::sqrt(float(query_channels)) : 1.f;
}

SelfAttentionWeights SelfAttentionWeights::from_safetensors(const SafeTensors& f, const std::string& requested) {
  std::string prefix = requested;
  const std::string anchor = "query_conv.weight";
  if (prefix == "auto") {
    std::vector<std::string> found;
    for (const auto& [name, t] : f.tensors)
      if (name.size() >= anchor.size() && name.compare(name.size() - anchor.size(), anchor.size(), anchor) == 0)
        found.push_back(name.substr(0, name.size() - anchor.size()));
    require(!found.empty(), "'" + f.source + "' holds no self-attention block (no tensor named '*query_conv.weight').");
    if (found.size() > 1)
      throw Error("'" + f.source + "' holds " + std::to_string(found.size()) + " self-attention blocks (prefixes '" +
                  found[0] + "', '" + found[1] + "', ...); say which one with a prefix.");
    prefix = found[0];
  }
  SelfAttentionWeights w;
  auto get = [&](const std::string& name) -> const HostTensor& { return f.at(prefix + name); };
  w.query_weight = get("query_conv.weight");
  w.key_weight = get("key_conv.weight");
  w.value_weight = get("value_conv.weight");
  require_conv_weight(f, prefix + "query_conv.weight", w.query_weight);
  require_conv_weight(f, prefix + "key_conv.weight", w.key_weight);
  require_conv_weight(f, prefix + "value_conv.weight", w.value_weight);
  w.query_channels = w.query_weight.shape[0];
  w.channels = w.query_weight.shape[1];
  const int64_t C = w.channels, Cq = w.query_channels;
  require_shape(f, prefix + "key_conv.weight", w.key_weight, w.query_weight.shape);
  Shape value_shape = w.query_weight.shape;
  value_shape[0] = C;  // the residual adds the value path to x, so it keeps C channels
  require_shape(f, prefix + "value_conv.weight", w.value_weight, value_shape);
  w.query_bias = get("query_conv.bias");
  w.key_bias = get("key_conv.bias");
  w.value_bias = get("value_conv.bias");
  require_shape(f, prefix + "query_conv.bias", w.query_bias, {Cq});
  require_shape(f, prefix + "key_conv.bias", w.key_bias, {Cq});
  require_shape(f, prefix + "value_conv.bias", w.value_bias, {C});
  const HostTensor& gamma = get("gamma");
  require(gamma.data.size() == 1, "'" + f.source + "': '" + prefix + "gamma' must hold one value, but its shape is " +
                                      to_string(gamma.shape) + ".");
  w.gamma = gamma.data[0];
  if (auto it = f.metadata.find(prefix + "similarity"); it != f.metadata.end())
    w.similarity = parse_similarity(it->second, "'" + f.source + "': metadata '" + prefix + "similarity'");
  if (w.similarity == Similarity::additive) w.additive_weight = read_additive_weight(f, prefix, Cq);
  w.scale = default_scale(w.similarity, Cq);
  if (auto it = f.metadata.find(prefix + "scale"); it != f.metadata.end())
    w.scale = parse_scale(it->second, "'" + f.source + "': metadata '" + prefix + "scale'");
  for (auto* t : {&w.query_weight, &w.key_weight, &w.value_weight}) t->shape = {t->shape[0], C};
  return w;
}

SelfAttentionTensors add_self_attention(Graph& g, TensorId x, const SelfAttentionWeights& w, const std::string& prefix,
                                        bool attention_map) {
  const int64_t C = w.channels, Cq = w.query_channels;
  require(C >= 1 && Cq >= 1, "Self-attention weights need at least one channel and one query channel.");
  const TensorId gamma = g.weight(prefix + "gamma", HostTensor{{1}, {w.gamma}});
  // Queries channel-major; keys and values position-major for the fused attention's key blocks.
  const TensorId q = ops::projection(g, x, g.weight(prefix + "query_conv.weight", w.query_weight),
                                     g.weight(prefix + "query_conv.bias", w.query_bias));
  const TensorId kv = ops::projection(g, x, g.weight(prefix + "kv.weight", key_value_rows(w.key_weight, w.value_weight, C)),
                                      g.weight(prefix + "kv.bias", key_value_rows(w.key_bias, w.value_bias, 0)), true);
  // Cosine similarity is the dot product of unit vectors: normalise q and the keys of kv first.
  const bool cosine = w.similarity == Similarity::cosine;
  const TensorId qn = cosine ? ops::l2_normalize(g, q, ops::NormalizeAlong::channels, 0, Cq) : q;
  const TensorId kvn = cosine ? ops::l2_normalize(g, kv, ops::NormalizeAlong::rows, 0, Cq) : kv;
  if (cosine) {
    g.name_node(qn, prefix + "query_norm");
    g.name_node(kvn, prefix + "key_norm");
  }
  std::optional<TensorId> additive;  // its shape is checked by the attention op
  if (w.similarity == Similarity::additive) additive = g.weight(prefix + "additive.weight", w.additive_weight);
  // y = gamma O + x in the attention's own pass.
  const auto attention = ops::attention(g, {qn, 0, Cq}, kvn, C, w.scale, additive, ops::ResidualInput{x, gamma});
  const TensorId y = attention.out;
  g.name_node(q, prefix + "query");
  g.name_node(kv, prefix + "key_value");
  g.name_node(y, prefix + "fused");
  if (!attention_map) return {y, std::nullopt};
  // The map from the same softmax statistics, after the output: never an (N, N) score tensor.
  const TensorId map = ops::attention_map(g, {qn, 0, Cq}, kvn, attention.stats, w.scale, additive);
  g.name_node(map, prefix + "map");
  return {y, map};
}

// {"type": "self_attention", "name": P, "similarity": S, "scale": s}: weights P.query_conv.*,
// P.key_conv.*, P.value_conv.* and P.gamma, as SelfAttentionWeights reads them, and for the
// additive similarity P.additive.weight (1, Cq); S one of dot (default), scaled_dot, cosine,
// additive; s defaults to the similarity's (1, or 1/sqrt(Cq) for scaled_dot). In a format-2
// node, "outputs": [y, map] also makes the (B, N, N) map a value.
void register_self_attention(Registry& r) {
  r.add("self_attention", LayerType{{"similarity", "scale"}, true, [](const LayerSpec& spec) -> AddLayer {
          SelfAttentionWeights w = SelfAttentionWeights::from_safetensors(spec.file(), spec.name() + ".");
          if (spec.has("similarity")) {
            w.similarity = parse_similarity(spec.text("similarity", ""), "its \"similarity\"");
            w.scale = default_scale(w.similarity, w.query_channels);
            if (w.similarity == Similarity::additive)
              w.additive_weight = read_additive_weight(spec.file(), spec.name() + ".", w.query_channels);
          }
          w.scale = spec.number("scale", w.scale);
          return attention_layer("self_attention", spec.name(),
                                 [w](Graph& g, TensorId x, const std::string& prefix, bool maps) {
                                   return add_self_attention(g, x, w, prefix, maps);
                                 });
        },
        1, 1, 2});
}

}  // namespace vkattn
