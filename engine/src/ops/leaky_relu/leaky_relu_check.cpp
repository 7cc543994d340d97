// leaky_relu against float64: negative and positive inputs, PyTorch's default slope, SAGAN's 0.1,
// a slope above 1 and a negative one (both allowed by torch.nn.LeakyReLU); NaN and infinities.
#include <algorithm>
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [...], "slope": a}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  const double slope = s.at("slope").get<double>();
  auto x = random(rng, shape(s, "shape"), -4.f, 4.f);
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  p.graph.output("y", ops::leaky_relu(p.graph, p.graph.input("x", x.shape), float(slope)));
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    std::transform(x.data.begin(), x.data.end(), y.begin(), [=](float v) { return v >= 0 ? double(v) : double(float(slope)) * v; });
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"shape", {1}}, {"slope", 0.01}}, {{"shape", {8, 3, 7, 13}}, {"slope", 0.1}},
          {{"shape", {2, 5, 9}}, {"slope", 1.5}}, {{"shape", {3, 1000}}, {"slope", -0.2}},
          {{"shape", {3, 7, 11}}, {"slope", 0.1}, {"special", "nan"}}, {{"shape", {3, 7, 11}}, {"slope", -0.2}, {"special", "inf"}}};
}

}  // namespace

void register_leaky_relu_check(CheckRegistry& r) { r.add({"leaky_relu", matrix, prepare}); }

}  // namespace vkattn::conformance
