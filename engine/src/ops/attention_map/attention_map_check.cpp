// The attention map from given statistics against float64 exp(s - m) / l, with s = scale q.k:
// maps small and large, one past a binding's size on lavapipe so that rows come in blocks; NaN
// and infinities in the scores (a row holding NaN or +inf is NaN, a -inf weighs 0).
#include <algorithm>
#include <cmath>

#include "ops/scores/scores_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"B", "Cq", "Cv", "N", "groups"}: q (B, Cq, N), kv (B, N, Cq + Cv), stats (B, groups, 2, N)
// holding each row's true max and sum, as the fused attention leaves them.
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), Cq = integer(s, "Cq"), Cv = integer(s, "Cv"), N = integer(s, "N");
  const int64_t groups = integer(s, "groups");
  const float scale = 1.f / std::sqrt(float(Cq));
  auto q = random(rng, {B, Cq, N}, -2.f, 2.f), kv = random(rng, {B, N, Cq + Cv}, -2.f, 2.f);
  const std::string kind = special(s);
  if (!kind.empty() && B >= 3) {  // item 0 finite; as in the attention check
    std::uniform_int_distribution<int64_t> position(0, N - 1);
    if (kind == "nan") {
      q.data[(1 * Cq + 0) * N + position(rng)] = kNaN;        // a NaN row
      kv.data[(2 * N + position(rng)) * (Cq + Cv)] = kNaN;     // all of item 2 NaN
    } else {
      kv.data[(1 * N + position(rng)) * (Cq + Cv)] = -kInf;   // weight 0, or a +inf and a NaN row
      q.data[(2 * Cq + Cq - 1) * N + position(rng)] = kInf;  // a NaN row
    }
  }
  std::vector<double> k(B * Cq * N);  // (B, Cq, N) as the scores reference takes it
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t c = 0; c < Cq; ++c) k[(b * Cq + c) * N + j] = kv.data[(b * N + j) * (Cq + Cv) + c];
  const auto scores = std::make_shared<std::vector<double>>(reference::scores(widen(q.data), k, B, Cq, N, scale));
  HostTensor stats{{B, groups, 2, N}, std::vector<float>(B * groups * 2 * N)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < N; ++i) {
      const double* row = scores->data() + (b * N + i) * N;
      const double m = max_nan(row, row + N);
      double l = 0;
      for (int64_t j = 0; j < N; ++j) l += std::exp(row[j] - m);
      for (int64_t g = 0; g < groups; ++g) {
        stats.data[((b * groups + g) * 2) * N + i] = drawn(float(m));
        stats.data[((b * groups + g) * 2 + 1) * N + i] = drawn(float(l));
      }
    }
  Prepared p;
  Graph& g = p.graph;
  g.output("attention", ops::attention_map(g, {g.input("q", q.shape), 0, Cq}, g.input("kv", kv.shape),
                                           g.input("stats", stats.shape), scale));
  p.reference = [=] {
    std::vector<double> a(scores->size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < N; ++i) {
        const double m = stats.data[(b * groups * 2) * N + i], l = stats.data[(b * groups * 2 + 1) * N + i];
        for (int64_t j = 0; j < N; ++j) a[(b * N + i) * N + j] = std::exp((*scores)[(b * N + i) * N + j] - m) / l;
      }
    return Outputs{{"attention", std::move(a)}};
  };
  p.inputs = {{"q", std::move(q)}, {"kv", std::move(kv)}, {"stats", std::move(stats)}};
  // At fp16 the row statistics come in as halves and the scores are exponentiated against them
  // (measured up to 9.8e-4).
  p.fp16_bound = 5e-3;
  return p;
}

Spec spec(int64_t B, int64_t Cq, int64_t Cv, int64_t N, int64_t groups) {
  return {{"B", B}, {"Cq", Cq}, {"Cv", Cv}, {"N", N}, {"groups", groups}};
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {spec(1, 1, 1, 1, 1), spec(3, 8, 5, 91, 2), spec(2, 32, 0, 1031, 1)};
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back(spec(3, 5, 2, 91, 2));
    specs.back()["special"] = kind;
  }
  if (!o.quick) specs.insert(specs.end(), {spec(1, 3, 2, 4096, 1), spec(1, 1, 1, 6000, 1)});  // 6000^2 floats: 137 MiB
  return specs;
}

}  // namespace

void register_attention_map_check(CheckRegistry& r) { r.add({"attention_map", matrix, prepare}); }

}  // namespace vkattn::conformance
