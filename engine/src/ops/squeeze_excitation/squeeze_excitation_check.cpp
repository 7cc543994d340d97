// squeeze_excitation against float64: one channel, a squeeze of one, odd sizes, a plane larger
// than a workgroup, more channels than the gate's workgroup, and S larger than C; NaN (its item's
// gate and output NaN: the hidden relu keeps it) and infinities.
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"B", "C", "S", "H", "W"}
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), C = integer(s, "C"), S = integer(s, "S"), H = integer(s, "H"), W = integer(s, "W");
  Prepared p;
  auto x = random(rng, {B, C, H, W}), w1 = random(rng, {S, C}), b1 = random(rng, {S}), w2 = random(rng, {C, S}),
       b2 = random(rng, {C});
  const std::string kind = special(s);
  for (int64_t b = 1; b < B && !kind.empty(); ++b)  // item 0 stays finite; item b one element of plane b % C
    x.data[(b * C + b % C) * H * W + std::uniform_int_distribution<int64_t>(0, H * W - 1)(rng)] =
        kind == "nan" ? kNaN : b % 2 ? kInf : -kInf;
  p.graph.output("y", ops::squeeze_excitation(p.graph, p.graph.input("x", x.shape), p.graph.weight("fc1.weight", w1),
                                              p.graph.weight("fc1.bias", b1), p.graph.weight("fc2.weight", w2),
                                              p.graph.weight("fc2.bias", b2)));
  p.reference = [=] {
    const int64_t plane = H * W;
    std::vector<double> y(x.data.size());
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> pooled(C, 0.0), hidden(S);
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t i = 0; i < plane; ++i) pooled[c] += x.data[(b * C + c) * plane + i];
        pooled[c] /= double(plane);
      }
      for (int64_t j = 0; j < S; ++j) {
        double h = b1.data[j];
        for (int64_t c = 0; c < C; ++c) h += double(w1.data[j * C + c]) * pooled[c];
        hidden[j] = max_nan(h, 0.0);
      }
      for (int64_t c = 0; c < C; ++c) {
        double g = b2.data[c];
        for (int64_t j = 0; j < S; ++j) g += double(w2.data[c * S + j]) * hidden[j];
        const double gate = 1.0 / (1.0 + std::exp(-g));
        for (int64_t i = 0; i < plane; ++i) y[(b * C + c) * plane + i] = x.data[(b * C + c) * plane + i] * gate;
      }
    }
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

Spec se(int64_t B, int64_t C, int64_t S, int64_t H, int64_t W) {
  return {{"B", B}, {"C", C}, {"S", S}, {"H", H}, {"W", W}};
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {se(1, 1, 1, 1, 1), se(3, 7, 2, 5, 9), se(2, 130, 33, 3, 3), se(1, 16, 40, 4, 4)};
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back(se(3, 7, 2, 5, 9));
    specs.back()["special"] = kind;
    specs.push_back(se(3, 5, 3, 40, 40));  // planes of a workgroup each
    specs.back()["special"] = kind;
  }
  if (!o.quick) specs.push_back(se(2, 64, 16, 32, 32));
  return specs;
}

}  // namespace

void register_squeeze_excitation_check(CheckRegistry& r) {
  r.add({"squeeze_excitation", matrix, prepare});
}

}  // namespace vkattn::conformance
