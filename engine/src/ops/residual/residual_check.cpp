// residual against float64: one element, primes, and 257 channels of 32x32.
#include "ops/residual/residual_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

std::vector<double> reference::residual(const std::vector<double>& o, const std::vector<double>& x, double gamma) {
  std::vector<double> y(o.size());
  for (size_t i = 0; i < o.size(); ++i) y[i] = gamma * o[i] + x[i];
  return y;
}

namespace conformance {
namespace {

// {"B", "C", "H", "W"}: o and x of that shape, gamma in [0.2, 1.5).
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape shape{integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")};
  Prepared p;
  auto o = random(rng, shape), x = random(rng, shape), gamma = random(rng, {1}, 0.2f, 1.5f);
  p.graph.output("y", ops::residual(p.graph, p.graph.input("o", shape), p.graph.input("x", shape),
                                    p.graph.weight("gamma", gamma)));
  p.reference = [=] { return Outputs{{"y", reference::residual(widen(o.data), widen(x.data), gamma.data[0])}}; };
  p.inputs = {{"o", std::move(o)}, {"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"B", 1}, {"C", 1}, {"H", 1}, {"W", 1}}, {{"B", 8}, {"C", 3}, {"H", 7}, {"W", 13}},
          {{"B", 2}, {"C", 257}, {"H", 32}, {"W", 32}}};
}

}  // namespace

void register_residual_check(CheckRegistry& r) { r.add({"residual", matrix, prepare}); }

}  // namespace conformance
}  // namespace vkattn
