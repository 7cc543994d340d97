// sigmoid against float64 over inputs from -20 to 20, where e^-x spans 40 orders of magnitude;
// NaN, and infinities (0 and 1).
#include <algorithm>
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [...]}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  auto x = random(rng, shape(s, "shape"), -20.f, 20.f);
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  p.graph.output("y", ops::sigmoid(p.graph, p.graph.input("x", x.shape)));
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    std::transform(x.data.begin(), x.data.end(), y.begin(), [](float v) { return 1.0 / (1.0 + std::exp(-double(v))); });
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"shape", {1}}},
          {{"shape", {8, 3, 7, 13}}},
          {{"shape", {2, 4099}}},
          {{"shape", {3, 12, 5, 4}}},  // whole vec4s
          {{"shape", {3, 7, 11}}, {"special", "nan"}},
          {{"shape", {3, 12, 5, 4}}, {"special", "inf"}}};
}

}  // namespace

void register_sigmoid_check(CheckRegistry& r) { r.add({"sigmoid", matrix, prepare}); }

}  // namespace vkattn::conformance
