// multihead_attention against float64, written out from nn.MultiheadAttention's definition:
// heads from 1 to C, N = 1, odd sizes, with and without the residual, the mean map and each head's;
// with "special", one NaN or +inf in item 1 (item 0 stays finite).
#include <algorithm>
#include <cmath>

#include "ops/softmax/softmax_check.h"
#include "vkattn/multihead_attention.h"
#include "vkattn/op_check.h"

namespace vkattn::conformance {
namespace {

Outputs reference_outputs(const HostTensor& x, const MultiheadAttentionWeights& w, bool map, bool head_maps) {
  const int64_t B = x.shape[0], C = w.channels, N = x.shape[2] * x.shape[3], h = w.heads, d = C / h;
  // [Q; K; V] (B, 3C, N) = W_in x + b_in
  std::vector<double> qkv(B * 3 * C * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < 3 * C; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = w.in_proj_bias.data[m];
        for (int64_t c = 0; c < C; ++c) acc += double(w.in_proj_weight.data[m * C + c]) * x.data[(b * C + c) * N + n];
        qkv[(b * 3 * C + m) * N + n] = acc;
      }
  auto at = [&](int64_t b, int64_t channel, int64_t n) { return qkv[(b * 3 * C + channel) * N + n]; };
  std::vector<double> heads_out(B * C * N, 0.0), mean_map(B * N * N, 0.0), stacked(B * h * N * N);
  for (int64_t t = 0; t < h; ++t) {
    std::vector<double> s(B * N * N);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double acc = 0;
          for (int64_t c = t * d; c < (t + 1) * d; ++c) acc += at(b, c, i) * at(b, C + c, j);
          s[(b * N + i) * N + j] = acc / std::sqrt(double(d));
        }
    const auto a = reference::softmax(s, B * N, N);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = t * d; c < (t + 1) * d; ++c)
        for (int64_t i = 0; i < N; ++i) {
          double acc = 0;
          for (int64_t j = 0; j < N; ++j) acc += at(b, 2 * C + c, j) * a[(b * N + i) * N + j];
          heads_out[(b * C + c) * N + i] = acc;
        }
    for (size_t k = 0; k < a.size(); ++k) mean_map[k] += a[k] / double(h);
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(a.begin() + b * N * N, N * N, stacked.begin() + (b * h + t) * N * N);
  }
  std::vector<double> y(B * C * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < C; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = w.out_proj_bias.data[m];
        for (int64_t c = 0; c < C; ++c) acc += double(w.out_proj_weight.data[m * C + c]) * heads_out[(b * C + c) * N + n];
        y[(b * C + m) * N + n] = acc + (w.residual ? double(x.data[(b * C + m) * N + n]) : 0.0);
      }
  Outputs out{{"y", std::move(y)}};
  if (map) out.emplace_back("attention", std::move(mean_map));
  if (head_maps) out.emplace_back("head_attention", std::move(stacked));
  return out;
}

// {"B", "C", "heads", "H", "W"}, optional "residual", "map" and "head_maps" (false by default).
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), C = integer(s, "C");
  const bool map = s.value("map", false), head_maps = s.value("head_maps", false);
  MultiheadAttentionWeights w;
  w.channels = C;
  w.heads = integer(s, "heads");
  w.residual = s.value("residual", false);
  const float range = 1.f / std::sqrt(float(C));  // PyTorch's own initial scale: spread scores
  w.in_proj_weight = random(rng, {3 * C, C}, -2 * range, 2 * range);
  w.in_proj_bias = random(rng, {3 * C});
  w.out_proj_weight = random(rng, {C, C}, -range, range);
  w.out_proj_bias = random(rng, {C});
  Prepared p;
  auto x = random(rng, {B, C, integer(s, "H"), integer(s, "W")});
  const std::string kind = special(s);
  if (!kind.empty() && B >= 2) {
    const int64_t plane = x.shape[2] * x.shape[3];
    x.data[(C + std::uniform_int_distribution<int64_t>(0, C - 1)(rng)) * plane +
           std::uniform_int_distribution<int64_t>(0, plane - 1)(rng)] = kind == "nan" ? kNaN : kInf;
  }
  const auto layer = add_multihead_attention(p.graph, p.graph.input("x", x.shape), w, "", map, head_maps);
  p.graph.output("y", layer.y);
  if (map) p.graph.output("attention", *layer.attention);
  if (head_maps) p.graph.output("head_attention", *layer.head_attention);
  p.reference = [=] { return reference_outputs(x, w, map, head_maps); };
  p.inputs = {{"x", std::move(x)}};
  // At fp16 the in-projection, the heads' outputs and the out-projection are each stored as halves,
  // and a one-position case's output can cancel (measured up to 2.3e-3).
  p.fp16_bound = 1e-2;
  return p;
}

Spec layer(int64_t B, int64_t C, int64_t heads, int64_t H, int64_t W, bool residual = false, bool map = false,
           bool head_maps = false) {
  Spec s = {{"B", B}, {"C", C}, {"heads", heads}, {"H", H}, {"W", W}};
  if (residual) s["residual"] = true;
  if (map) s["map"] = true;
  if (head_maps) s["head_maps"] = true;
  return s;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {layer(1, 1, 1, 1, 1),        layer(2, 6, 3, 1, 1, true, true), layer(3, 12, 4, 5, 7),
                             layer(2, 9, 3, 7, 5, true, true), layer(1, 8, 8, 6, 6, false, true),
                             layer(2, 12, 3, 5, 3, false, false, true), layer(1, 6, 2, 4, 4, true, true, true)};
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back(layer(2, 9, 3, 7, 5, true, true, true));
    specs.back()["special"] = kind;
  }
  if (!o.quick)
    specs.insert(specs.end(), {layer(2, 64, 8, 16, 16, true), layer(1, 32, 4, 40, 41, false, true),
                               layer(1, 30, 5, 64, 64, true)});
  return specs;
}

}  // namespace

void register_multihead_attention_check(CheckRegistry& r) { r.add({"multihead_attention", matrix, prepare}); }

}  // namespace vkattn::conformance
