// The whole SAGAN block against a float64 composition of its parts' references: fused, or with
// the attention map as a second output when the spec asks for it ("map": true). With "special", item
// 1 holds one NaN or +inf (item 0 stays finite): as in PyTorch, a NaN makes all of its output and
// map NaN; an infinity makes its output NaN (0 * inf) and its map NaN in the rows that see +inf,
// while the rows that see -inf give it weight 0 and stay finite.
#include <algorithm>
#include <cmath>
#include <string>

#include "ops/attend/attend_check.h"
#include "ops/projection/projection_check.h"
#include "ops/residual/residual_check.h"
#include "ops/scores/scores_check.h"
#include "ops/softmax/softmax_check.h"
#include "vkattn/op_check.h"
#include "vkattn/self_attention.h"

namespace vkattn::conformance {
namespace {

Outputs block_reference(const HostTensor& x, const SelfAttentionWeights& w, bool map) {
  const int64_t B = x.shape[0], C = w.channels, Cq = w.query_channels, N = x.shape[2] * x.shape[3];
  auto q = reference::projection(x.data, w.query_weight.data, w.query_bias.data, B, C, Cq, N);
  auto k = reference::projection(x.data, w.key_weight.data, w.key_bias.data, B, C, Cq, N);
  if (w.similarity == Similarity::cosine)
    for (auto* t : {&q, &k})  // (B, Cq, N): each position's Cq channels to unit length
      for (int64_t b = 0; b < B; ++b)
        for (int64_t n = 0; n < N; ++n) {
          double ss = 0;
          for (int64_t c = 0; c < Cq; ++c) ss += (*t)[(b * Cq + c) * N + n] * (*t)[(b * Cq + c) * N + n];
          const double norm = max_nan(std::sqrt(ss), 1e-12);
          for (int64_t c = 0; c < Cq; ++c) (*t)[(b * Cq + c) * N + n] /= norm;
        }
  const auto v = reference::projection(x.data, w.value_weight.data, w.value_bias.data, B, C, C, N);
  std::vector<double> s;
  if (w.similarity == Similarity::additive) {  // scale * sum_c u_c tanh(q_ci + k_cj)
    s.assign(B * N * N, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < Cq; ++c)
            acc += double(w.additive_weight.data[c]) * std::tanh(q[(b * Cq + c) * N + i] + k[(b * Cq + c) * N + j]);
          s[(b * N + i) * N + j] = double(w.scale) * acc;
        }
  } else {
    s = reference::scores(q, k, B, Cq, N, w.scale);
  }
  auto a = reference::softmax(s, B * N, N);
  Outputs out{{"y", reference::residual(reference::attend(v, a, B, C, N), widen(x.data), w.gamma)}};
  if (map) out.emplace_back("attention", std::move(a));
  return out;
}

// {"B", "C", "Cq", "H", "W"}, optional "similarity" (default dot), "scale" (default 1/sqrt(Cq);
// for cosine, 5, so that the softmax over unit-vector scores is not nearly flat; for additive, 1)
// and "map".
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), C = integer(s, "C"), Cq = integer(s, "Cq");
  const bool map = s.value("map", false);
  const float range = 1.f / std::sqrt(float(C));  // keeps the scores, and so the softmax, well spread
  SelfAttentionWeights w{C,  Cq, random(rng, {Cq, C}, -range, range), random(rng, {Cq}),
                         random(rng, {Cq, C}, -range, range), random(rng, {Cq}),
                         random(rng, {C, C}, -range, range),  random(rng, {C}),
                         random(rng, {1}, 0.2f, 1.5f).data[0], 1.f};
  w.similarity = parse_similarity(s.value("similarity", "dot"), "conformance case");
  if (w.similarity == Similarity::additive) w.additive_weight = random(rng, {1, Cq});
  float fallback = 1.f / std::sqrt(float(Cq));
  if (w.similarity == Similarity::cosine) fallback = 5.f;
  if (w.similarity == Similarity::additive) fallback = 1.f;
  w.scale = s.value("scale", fallback);
  Prepared p;
  auto x = random(rng, {B, C, integer(s, "H"), integer(s, "W")});
  const std::string kind = special(s);
  if (!kind.empty() && B >= 2) {
    const int64_t plane = x.shape[2] * x.shape[3];
    x.data[(C + std::uniform_int_distribution<int64_t>(0, C - 1)(rng)) * plane +
           std::uniform_int_distribution<int64_t>(0, plane - 1)(rng)] = kind == "nan" ? kNaN : kInf;
  }
  const auto block = add_self_attention(p.graph, p.graph.input("x", x.shape), w, "", map);
  p.graph.output("y", block.y);
  if (map) p.graph.output("attention", *block.attention);
  p.reference = [=] { return block_reference(x, w, map); };
  p.inputs = {{"x", std::move(x)}};
  // At fp16 the block stores its projections (q, k, v) and the attention's output as halves
  // before the residual: four roundings, and y = gamma * o + x can cancel (measured up to 1.3e-3).
  p.fp16_bound = 5e-3;
  return p;
}

Spec block(int64_t B, int64_t C, int64_t Cq, int64_t H, int64_t W, bool map = false, const char* similarity = "dot") {
  Spec s = {{"B", B}, {"C", C}, {"Cq", Cq}, {"H", H}, {"W", W}};
  if (map) s["map"] = true;
  if (std::string(similarity) != "dot") s["similarity"] = similarity;
  return s;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {block(1, 1, 1, 1, 1),       block(8, 3, 1, 7, 13),        block(1, 257, 32, 9, 9),
                             block(1, 8, 1, 128, 128),   block(8, 3, 1, 7, 13, true),  block(2, 40, 5, 16, 16, true),
                             // cosine: one query channel (every score is +-1), odd sizes, with the map
                             block(2, 5, 1, 3, 7, true, "cosine"), block(3, 40, 5, 13, 11, true, "cosine"),
                             block(2, 24, 3, 9, 9, false, "scaled_dot"),
                             // additive: one query channel, odd sizes, the map
                             block(2, 5, 1, 3, 7, true, "additive"), block(3, 40, 5, 13, 11, true, "additive")};
  if (!o.quick)
    specs.insert(specs.end(), {block(2, 40, 5, 16, 16), block(1, 72, 9, 32, 32), block(1, 8, 1, 64, 64),
                               block(3, 16, 2, 64, 64), block(1, 8, 1, 64, 64, true),
                               // a 6400 x 6400 map: 156 MiB, written in blocks of rows on lavapipe
                               block(1, 4, 1, 80, 80, true), block(1, 64, 8, 61, 67, false, "cosine"),
                               block(2, 72, 9, 32, 32, true, "scaled_dot"), block(1, 64, 8, 61, 67, false, "additive")});
  const auto special = [](Spec s, const char* kind) {
    s["special"] = kind;
    return s;
  };
  for (const char* kind : {"nan", "inf"})
    specs.insert(specs.end(), {special(block(2, 8, 1, 5, 7, true), kind), special(block(2, 40, 5, 6, 6, true), kind),
                               special(block(2, 5, 1, 3, 7, true, "additive"), kind),
                               special(block(2, 5, 1, 3, 7, true, "cosine"), kind)});
  return specs;
}

}  // namespace

void register_self_attention_check(CheckRegistry& r) { r.add({"self_attention", matrix, prepare}); }

}  // namespace vkattn::conformance
