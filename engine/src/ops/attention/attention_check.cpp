// The fused attention against float64 softmax(scale q.k) v: N from 1 past several key blocks,
// primes, value channels that leave a partial channel group, batches; NaN and infinities.
#include <array>
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
  const std::string kind = special(s);
  if (!kind.empty()) {
    // Item 0 stays finite. NaN: a query of item 1 (its row NaN), a value of item 1 (that channel
    // NaN in every row), a key of item 2 (all of item 2 NaN). inf: a key of item 1 -inf (rows
    // whose query is positive weigh it 0, the others see +inf and are NaN), a value of item 2
    // +inf (that channel +inf), a query of item 2 +inf (its row NaN). Every padding entry is NaN:
    // the projection leaves 0 * x there, NaN beside a NaN or an infinity.
    std::uniform_int_distribution<int64_t> position(0, N - 1);
    const auto key = [&](int64_t b, int64_t j, int64_t c) -> float& { return kv.data[(b * N + j) * row + c]; };
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t c = 0; c < row; ++c)
          if ((c >= Cq && c < v0) || c >= v0 + Cv) key(b, j, c) = kNaN;
    if (kind == "nan") {
      q.data[(1 * Cq + 0) * N + position(rng)] = kNaN;
      key(1, position(rng), v0 + Cv - 1) = kNaN;
      key(2, position(rng), Cq - 1) = kNaN;
    } else {
      key(1, position(rng), 0) = -kInf;
      key(2, position(rng), v0) = kInf;
      q.data[(2 * Cq + Cq - 1) * N + position(rng)] = kInf;
    }
  }
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
  // Special values (three items): key texels with and without padding, vec4 queries (N = 300),
  // two key blocks (N = 2053).
  for (const char* kind : {"nan", "inf"})
    for (auto [Cq, Cv, N] : std::vector<std::array<int64_t, 3>>{{8, 64, 91}, {5, 6, 300}, {1, 1, 2053}})
      specs.push_back({{"B", 3}, {"Cq", Cq}, {"Cv", Cv}, {"N", N}, {"special", kind}});
  return specs;
}

}  // namespace

void register_attention_check(CheckRegistry& r) { r.add({"attention", matrix, prepare}); }

}  // namespace vkattn::conformance
