// sum, mean and amax against float64, each output element the plain sum (or max_nan) of its
// input elements walked in order: over (2, 3) with and without keepdim, over dim 1, the last dim,
// every dim after the batch, non-adjacent dims, negative dims, ranks 2 to 5; long reductions of
// 50176 elements (224 x 224) of values of one sign, where a plain float32 sum in order misses the
// 1e-6 bound (by about 2x); NaN (the outputs that read one are NaN) and infinities (+inf, -inf, or NaN where
// an output reads both).
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

ops::Reduce kind_of(const std::string& op) {
  return op == "sum" ? ops::Reduce::sum : op == "mean" ? ops::Reduce::mean : ops::Reduce::amax;
}

// {"x": shape, "dims": [...], "keepdim": bool, "lo": low end of the values (default -1)}
Prepared prepare(const Spec& s, Rng& rng, ops::Reduce kind) {
  const Shape dims = shape(s, "dims");
  const bool keepdim = s.value("keepdim", false);
  HostTensor x = random(rng, shape(s, "x"), s.value("lo", -1.f), 1.f);
  sprinkle(x, special(s), int64_t(x.data.size() / 512 + 1), rng);  // few: most outputs stay finite
  Prepared p;
  p.graph.output("y", ops::reduce(p.graph, p.graph.input("x", x.shape), kind, dims, keepdim));
  p.reference = [=] {
    const size_t rank = x.shape.size();
    std::vector<bool> reduced(rank, false);
    for (int64_t d : dims) reduced[d < 0 ? d + int64_t(rank) : d] = true;
    // Output index of each input element: its coordinates with the reduced ones left out.
    int64_t outputs = 1;
    for (size_t d = 0; d < rank; ++d) outputs *= reduced[d] ? 1 : x.shape[d];
    const bool max = kind == ops::Reduce::amax;
    std::vector<double> y(outputs, max ? -INFINITY : 0.0);
    std::vector<int64_t> count(outputs, 0);
    std::vector<int64_t> c(rank, 0);
    for (const float v : x.data) {
      int64_t o = 0;
      for (size_t d = 0; d < rank; ++d)
        if (!reduced[d]) o = o * x.shape[d] + c[d];
      y[o] = max ? max_nan(y[o], v) : y[o] + v;
      ++count[o];
      for (size_t d = rank; d-- > 0;) {
        if (++c[d] < x.shape[d]) break;
        c[d] = 0;
      }
    }
    if (kind == ops::Reduce::mean)
      for (int64_t o = 0; o < outputs; ++o) y[o] /= double(count[o]);
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  p.bound = 1e-6;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const bool keepdim : {false, true}) {
    specs.push_back({{"x", {3, 5, 7, 13}}, {"dims", {2, 3}}, {"keepdim", keepdim}});
    specs.push_back({{"x", {1, 6, 56, 56}}, {"dims", {2, 3}}, {"keepdim", keepdim}});  // a workgroup per output
  }
  specs.push_back({{"x", {3, 13, 7, 5}}, {"dims", {1}}});
  specs.push_back({{"x", {1, 300, 7}}, {"dims", {1}}});
  specs.push_back({{"x", {2, 9, 300}}, {"dims", {-1}}});
  specs.push_back({{"x", {3, 9, 11}}, {"dims", {2}}, {"keepdim", true}});
  specs.push_back({{"x", {3, 4, 5}}, {"dims", {1, 2}}});
  specs.push_back({{"x", {3, 1000}}, {"dims", {1}}});
  specs.push_back({{"x", {2, 3, 5, 7, 2}}, {"dims", {1, 3}}});
  specs.push_back({{"x", {3, 4, 5, 6, 7}}, {"dims", {-4, -2, 4}}, {"keepdim", true}});
  specs.push_back({{"x", {1, 2, 224, 224}}, {"dims", {2, 3}}, {"lo", 0.5}});  // 50176 of one sign
  specs.push_back({{"x", {3, 50176}}, {"dims", {1}}, {"lo", 0.f}});
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"x", {3, 5, 7, 13}}, {"dims", {2, 3}}, {"special", kind}});
    specs.push_back({{"x", {2, 4, 300}}, {"dims", {-1}}, {"special", kind}});  // a workgroup per output
  }
  if (!o.quick) specs.push_back({{"x", {8, 2048, 7, 7}}, {"dims", {2, 3}}});
  return specs;
}

}  // namespace

void register_reduce_check(CheckRegistry& r) {
  for (const char* op : {"sum", "mean", "amax"})
    r.add({op, matrix, [kind = kind_of(op)](const Spec& s, Rng& rng) { return prepare(s, rng, kind); }});
}

}  // namespace vkattn::conformance
