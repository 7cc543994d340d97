// scores against float64: query/key channels 1, 3 and 40, N from 1 to 16384 (a 1 GiB map that a
// device with a smaller maxStorageBufferRange skips).
#include <cmath>

#include "ops/scores/scores_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

std::vector<double> reference::scores(const std::vector<double>& q, const std::vector<double>& k, int64_t B,
                                      int64_t Cq, int64_t N, double scale) {
  std::vector<double> s(B * N * N, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < Cq; ++c) {
      const double* qc = &q[(b * Cq + c) * N];
      const double* kc = &k[(b * Cq + c) * N];
      for (int64_t i = 0; i < N; ++i) {
        double* row = &s[(b * N + i) * N];
        for (int64_t j = 0; j < N; ++j) row[j] += qc[i] * kc[j];
      }
    }
  for (double& v : s) v *= scale;
  return s;
}

namespace conformance {
namespace {

// {"B", "Cq", "N"}: q and k (B, Cq, N), scale 1/sqrt(Cq) unless the spec gives "scale". With
// "sliced": true, q and k are channels 0.. and Cq.. of one (B, 2 Cq + 3, N) tensor.
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), Cq = integer(s, "Cq"), N = integer(s, "N");
  const float scale = s.value("scale", 1.f / std::sqrt(float(Cq)));
  Prepared p;
  Graph& g = p.graph;
  if (s.value("sliced", false)) {
    const int64_t C = 2 * Cq + 3;
    auto qkv = random(rng, {B, C, N});
    const TensorId in = g.input("qkv", qkv.shape);
    g.output("y", ops::scores(g, {in, 0, Cq}, {in, Cq, Cq}, scale));
    p.reference = [=] {
      std::vector<double> q(B * Cq * N), k(B * Cq * N);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < Cq * N; ++i) {
          q[b * Cq * N + i] = qkv.data[b * C * N + i];
          k[b * Cq * N + i] = qkv.data[b * C * N + Cq * N + i];
        }
      return Outputs{{"y", reference::scores(q, k, B, Cq, N, scale)}};
    };
    p.inputs = {{"qkv", std::move(qkv)}};
    return p;
  }
  auto q = random(rng, {B, Cq, N}), k = random(rng, {B, Cq, N});
  sprinkle(q, special(s), 2, rng);  // "special": NaN or infinities in q and k
  sprinkle(k, special(s), 2, rng);
  g.output("y", ops::scores(g, {g.input("q", q.shape), 0, Cq}, {g.input("k", k.shape), 0, Cq}, scale));
  p.reference = [=] { return Outputs{{"y", reference::scores(widen(q.data), widen(k.data), B, Cq, N, scale)}}; };
  p.inputs = {{"q", std::move(q)}, {"k", std::move(k)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  // N = 1 is one score an item: four items, so that a lone dot product whose terms cancel to
  // near zero (a float32 error far above 1e-5 of it) cannot be the whole comparison.
  for (int64_t Cq : {1, 3, 40})
    for (auto [B, N] : std::vector<std::pair<int64_t, int64_t>>{{4, 1}, {8, 91}, {2, 1024}, {1, 4096}, {1, 16384}})
      if (!o.quick || !(Cq == 3 || N == 1024 || (N == 16384 && Cq != 1))) specs.push_back({{"B", B}, {"Cq", Cq}, {"N", N}});
  for (const char* kind : {"nan", "inf"}) specs.push_back({{"B", 2}, {"Cq", 3}, {"N", 91}, {"special", kind}});
  return specs;
}

}  // namespace

void register_scores_check(CheckRegistry& r) { r.add({"scores", matrix, prepare}); }

}  // namespace conformance
}  // namespace vkattn
