// tanh against float64, both of the shader's branches: inputs from -0.3 to 0.3 (the series)
// and from -12 to 12; NaN, and infinities (-1 and 1).
#include <algorithm>
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [...], "range": r}: inputs uniform in [-r, r]
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  const float r = s.at("range").get<float>();
  auto x = random(rng, shape(s, "shape"), -r, r);
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  p.graph.output("y", ops::tanh(p.graph, p.graph.input("x", x.shape)));
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    std::transform(x.data.begin(), x.data.end(), y.begin(), [](float v) { return std::tanh(double(v)); });
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"shape", {1}}, {"range", 12.0}}, {{"shape", {8, 3, 7, 13}}, {"range", 0.3}},
          {{"shape", {2, 4099}}, {"range", 12.0}}, {{"shape", {3, 12, 5, 4}}, {"range", 12.0}},  // the last: whole vec4s
          {{"shape", {3, 7, 11}}, {"range", 2.0}, {"special", "nan"}}, {{"shape", {3, 12, 5, 4}}, {"range", 2.0}, {"special", "inf"}}};
}

}  // namespace

void register_tanh_check(CheckRegistry& r) { r.add({"tanh", matrix, prepare}); }

}  // namespace vkattn::conformance
