// local_attention against float64: kernel sizes 1 to 7, 1 to 8 heads, heads of a few channels
// (d = 2, 6: not whole vec4s), images smaller than the kernel and not square, batches, the map.
// With "special", NaN or infinities in q, k and v: a position whose window holds a NaN or +inf
// score gets NaN in its output and its whole map row, as PyTorch's masked softmax gives.
#include <cmath>
#include <tuple>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

struct Sizes {
  int64_t B, C, H, W, heads, K;
};

// q, k, v at channels [1, 1 + C), [1 + C, 1 + 2C), [1 + 2C, 1 + 3C) of x (B, 3C + 1, H, W): slices
// that start at no texel or batch boundary. Returns y (B, C, H, W) and the map (B, heads, H W, K K).
Outputs reference(const HostTensor& x, const HostTensor& rel_h, const HostTensor& rel_w, const Sizes& s) {
  const int64_t N = s.H * s.W, d = s.C / s.heads, KK = s.K * s.K, half = s.K / 2, stride = (3 * s.C + 1) * N;
  std::vector<double> y(s.B * s.C * N), map(s.B * s.heads * N * KK);
  const auto at = [&](int64_t b, int64_t channel, int64_t j) -> double { return x.data[b * stride + (1 + channel) * N + j]; };
  std::vector<double> score(KK);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t t = 0; t < s.heads; ++t)
      for (int64_t i = 0; i < N; ++i) {
        const int64_t row = i / s.W, col = i % s.W;
        const auto inside = [&](int64_t a, int64_t c) {
          const int64_t r = row + a - half, w = col + c - half;
          return r >= 0 && r < s.H && w >= 0 && w < s.W ? r * s.W + w : int64_t(-1);
        };
        double m = -INFINITY, sum = 0;
        for (int64_t a = 0; a < s.K; ++a)
          for (int64_t c = 0; c < s.K; ++c) {
            const int64_t j = inside(a, c);
            score[a * s.K + c] = -INFINITY;  // outside: the mask
            if (j < 0) continue;
            double dot = 0;
            for (int64_t e = 0; e < d; ++e) {
              const double r = e < d / 2 ? rel_h.data[e * s.K + a] : rel_w.data[(e - d / 2) * s.K + c];
              dot += at(b, t * d + e, i) * (at(b, s.C + t * d + e, j) + r);
            }
            score[a * s.K + c] = dot;
            m = max_nan(m, dot);
          }
        for (double v : score) sum += std::exp(v - m);  // the mask's -inf too, as PyTorch's softmax
        double* weights = &map[((b * s.heads + t) * N + i) * KK];
        for (int64_t e = 0; e < KK; ++e) weights[e] = std::exp(score[e] - m) / sum;
        for (int64_t e = 0; e < d; ++e) {
          double acc = 0;
          for (int64_t a = 0; a < KK; ++a)
            if (const int64_t j = inside(a / s.K, a % s.K); j >= 0) acc += weights[a] * at(b, 2 * s.C + t * d + e, j);
          y[(b * s.C + t * d + e) * N + i] = acc;
        }
      }
  return {{"y", y}, {"map", map}};
}

// {"B", "C", "H", "W", "heads", "K", "map": bool, "special"}.
Prepared prepare(const Spec& spec, Rng& rng) {
  const Sizes s{integer(spec, "B"), integer(spec, "C"), integer(spec, "H"), integer(spec, "W"), integer(spec, "heads"),
                integer(spec, "K")};
  const int64_t d = s.C / s.heads;
  const bool map = spec.value("map", false);
  Prepared p;
  auto x = random(rng, {s.B, 3 * s.C + 1, s.H, s.W}), rel_h = random(rng, {d / 2, s.K}), rel_w = random(rng, {d / 2, s.K});
  sprinkle(x, special(spec), 3, rng);
  Graph& g = p.graph;
  const TensorId in = g.input("x", x.shape);
  const auto a = ops::local_attention(g, {in, 1, s.C}, {in, 1 + s.C, s.C}, {in, 1 + 2 * s.C, s.C},
                                      g.weight("rel_h", rel_h), g.weight("rel_w", rel_w), s.heads, s.K, map);
  g.output("y", a.y);
  if (map) g.output("map", *a.map);
  p.reference = [=] {
    Outputs out = reference(x, rel_h, rel_w, s);
    if (!map) out.pop_back();
    return out;
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  // B, C, H, W, heads, K, map.
  std::vector<std::tuple<Sizes, bool>> cases = {
      {{1, 2, 1, 1, 1, 1}, false},  {{2, 8, 5, 7, 2, 3}, true},   {{3, 12, 6, 9, 2, 5}, true},
      {{1, 16, 3, 2, 4, 7}, true},  {{2, 6, 9, 4, 1, 7}, false},  {{2, 4, 4, 4, 1, 1}, true}};
  if (!o.quick)
    cases.insert(cases.end(), {{{2, 64, 32, 32, 4, 7}, true}, {{4, 128, 14, 14, 8, 5}, false},
                               {{1, 32, 56, 40, 1, 3}, true}, {{5, 24, 2, 11, 4, 3}, true}});
  std::vector<Spec> specs;
  for (const auto& [s, map] : cases)
    specs.push_back({{"B", s.B}, {"C", s.C}, {"H", s.H}, {"W", s.W}, {"heads", s.heads}, {"K", s.K}, {"map", map}});
  for (const char* kind : {"nan", "inf"})
    specs.push_back({{"B", 3}, {"C", 8}, {"H", 5}, {"W", 6}, {"heads", 2}, {"K", 3}, {"map", true}, {"special", kind}});
  return specs;
}

}  // namespace

void register_local_attention_check(CheckRegistry& r) { r.add({"local_attention", matrix, prepare}); }

}  // namespace vkattn::conformance
