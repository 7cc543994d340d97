// relu against float64: any shape, including one whose elements need more workgroups than the
// grid's x limit (a 2-D grid); NaN (kept, as torch.relu) and infinities.
#include <algorithm>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [...]}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  auto x = random(rng, shape(s, "shape"));
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  p.graph.output("y", ops::relu(p.graph, p.graph.input("x", x.shape)));
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    std::transform(x.data.begin(), x.data.end(), y.begin(), [](float v) { return std::max(double(v), 0.0); });
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  // More workgroups than the grid's x limit for any workgroup of up to 256 invocations: a 2-D grid.
  const int64_t wide = (std::min<int64_t>(o.device.max_workgroup_count[0], 65535) + 5) * 256;
  return {{{"shape", {1}}},
          {{"shape", {8, 3, 7, 13}}},
          {{"shape", {1, wide}}},
          {{"shape", {3, 7, 11}}, {"special", "nan"}},
          {{"shape", {3, 12, 5, 4}}, {"special", "nan"}},  // whole vec4s
          {{"shape", {3, 7, 11}}, {"special", "inf"}}};
}

}  // namespace

void register_relu_check(CheckRegistry& r) { r.add({"relu", matrix, prepare}); }

}  // namespace vkattn::conformance
