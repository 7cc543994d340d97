// The fused attention against float64 softmax(scale q.k) v: N from 1 past several key blocks,
// primes, value channels that leave a partial channel group, batches.
#include <cmath>

#include "ops/attend/attend_check.h"
#include "ops/scores/scores_check.h"
#include "ops/softmax/softmax_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"B", "Cq", "Cv", "N"}: q (B, Cq, N), kv (B, N, key_value_row(Cq, Cv)) with random values in
// the padding too (the kernel must not depend on it), scale 1/sqrt(Cq) unless given.
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), Cq = integer(s, "Cq"), Cv = integer(s, "Cv"), N = integer(s, "N");
  const float scale = s.value("scale", 1.f / std::sqrt(float(Cq)));
  Prepared p;
  const int64_t row = ops::key_value_row(Cq, Cv), v0 = ops::padded4(Cq);
  auto q = random(rng, {B, Cq, N}, -2.f, 2.f), kv = random(rng, {B, N, row}, -2.f, 2.f);
  Graph& g = p.graph;
  g.output("y", ops::attention(g, {g.input("q", q.shape), 0, Cq}, g.input("kv", kv.shape), Cv, scale).out);
  p.reference = [=] {
    std::vector<double> k(B * Cq * N), v(B * Cv * N);  // (B, C, N) as the references take them
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t c = 0; c < Cq + Cv; ++c) {
          if (c < Cq) k[(b * Cq + c) * N + j] = kv.data[(b * N + j) * row + c];
          else v[(b * Cv + c - Cq) * N + j] = kv.data[(b * N + j) * row + v0 + c - Cq];
        }
    const auto a = reference::softmax(reference::scores(widen(q.data), k, B, Cq, N, scale), B * N, N);
    return Outputs{{"y", reference::attend(v, a, B, Cv, N)}};
  };
  p.inputs = {{"q", std::move(q)}, {"kv", std::move(kv)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (auto [B, N] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 91}, {2, 1031}, {1, 4096}})
    for (auto [Cq, Cv] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {8, 64}, {32, 257}})
      if (!o.quick || N < 4096 || Cv == 64) specs.push_back({{"B", B}, {"Cq", Cq}, {"Cv", Cv}, {"N", N}});
  return specs;
}

}  // namespace

void register_attention_check(CheckRegistry& r) { r.add({"attention", matrix, prepare}); }

}  // namespace vkattn::conformance
