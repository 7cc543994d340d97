// flatten keeps every value in C order: the reference is the input itself.
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [B, ...]}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  auto x = random(rng, shape(s, "shape"));
  p.graph.output("y", ops::flatten(p.graph, p.graph.input("x", x.shape)));
  p.reference = [=] { return Outputs{{"y", widen(x.data)}}; };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

// The last: items of whole vec4s (stored four at a time).
std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"shape", {1, 1, 1, 1}}}, {{"shape", {8, 5, 7, 13}}}, {{"shape", {5, 96, 3, 3}}}};
}

}  // namespace

void register_flatten_check(CheckRegistry& r) { r.add({"flatten", matrix, prepare}); }

}  // namespace vkattn::conformance
