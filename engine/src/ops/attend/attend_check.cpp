// attend against float64: value channels 1 to 257, N from 1 to 4096, maps in [0, 2/N) like a softmax's.
#include "ops/attend/attend_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

std::vector<double> reference::attend(const std::vector<double>& v, const std::vector<double>& a, int64_t B,
                                      int64_t Cv, int64_t N) {
  std::vector<double> o(B * Cv * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < Cv; ++c) {
      const double* vc = &v[(b * Cv + c) * N];
      for (int64_t i = 0; i < N; ++i) {
        const double* ai = &a[(b * N + i) * N];
        double sum = 0;
        for (int64_t j = 0; j < N; ++j) sum += vc[j] * ai[j];
        o[(b * Cv + c) * N + i] = sum;
      }
    }
  return o;
}

namespace conformance {
namespace {

// {"B", "Cv", "N"}: v (B, Cv, N), a (B, N, N). With "first": f, v is channels f.. of a
// (B, f + Cv + 1, N) tensor.
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), Cv = integer(s, "Cv"), N = integer(s, "N"), first = s.value("first", 0);
  const int64_t C = first ? first + Cv + 1 : Cv;
  Prepared p;
  auto v = random(rng, {B, C, N}), a = random(rng, {B, N, N}, 0.f, 2.f / N);
  sprinkle(v, special(s), 3, rng);  // "special": NaN or infinities, in v (past the slice too) and a
  sprinkle(a, special(s), 3, rng);
  p.graph.output("y", ops::attend(p.graph, {p.graph.input("v", v.shape), first, Cv}, p.graph.input("a", a.shape)));
  p.reference = [=] {
    std::vector<double> slice(B * Cv * N);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < Cv * N; ++i) slice[b * Cv * N + i] = v.data[(b * C + first) * N + i];
    return Outputs{{"y", reference::attend(slice, widen(a.data), B, Cv, N)}};
  };
  p.inputs = {{"v", std::move(v)}, {"a", std::move(a)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (int64_t Cv : {1, 3, 40, 72, 257})
    for (auto [B, N] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {8, 91}, {2, 1024}, {1, 4096}}) {
      if (N == 4096 && Cv > (o.quick ? 3 : 40)) continue;
      if (o.quick && (N == 1024 || ((Cv == 3 || Cv == 40) && N != 4096))) continue;
      specs.push_back({{"B", B}, {"Cv", Cv}, {"N", N}});
    }
  for (const char* kind : {"nan", "inf"}) specs.push_back({{"B", 2}, {"Cv", 5}, {"N", 91}, {"first", 2}, {"special", kind}});
  return specs;
}

}  // namespace

void register_attend_check(CheckRegistry& r) { r.add({"attend", matrix, prepare}); }

}  // namespace conformance
}  // namespace vkattn
