// layer_norm against float64: rows of 1, 3, 35, 768 and 1000 over the last 1 to 3 dims; the
// channels-first form on (B, C), (B, C, L) and (B, C, H, W); affine, weight alone and none; ViT
// rows of 768 at 100 with a spread of 0.01 (where a float32 mean near 100 loses most digits);
// NaN and infinities (their rows NaN, the others finite).
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"x": shape, "dims": k (0: channels first), "affine": "both" | "weight" | "none" (both),
//  "offset": o, "spread": s}: x uniform in [o - s, o + s) (0, 1).
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape shape_x = shape(s, "x");
  const int64_t dims = integer(s, "dims");
  const float offset = s.value("offset", 0.f), spread = s.value("spread", 1.f);
  HostTensor x = random(rng, shape_x, offset - spread, offset + spread);
  const std::string kind = special(s);
  // Rows of L elements `inner` apart, as the op walks them.
  int64_t L = 1;
  for (size_t d = dims ? shape_x.size() - dims : 1; d < (dims ? shape_x.size() : 2); ++d) L *= shape_x[d];
  const int64_t rows = element_count(shape_x) / L, inner = dims ? 1 : element_count(shape_x) / shape_x[0] / L;
  auto at = [=](int64_t row, int64_t j) { return (row / inner) * L * inner + row % inner + j * inner; };
  for (int64_t row : {1, 4})  // with "special", one NaN (or +inf, then -inf) in rows 1 and 4
    if (!kind.empty() && row < rows)
      x.data[at(row, std::uniform_int_distribution<int64_t>(0, L - 1)(rng))] = kind == "nan" ? kNaN : row == 1 ? kInf : -kInf;
  const std::string affine = s.value("affine", "both");
  const Shape normalized = dims ? Shape(shape_x.end() - dims, shape_x.end()) : Shape{shape_x[1]};
  const HostTensor w = random(rng, normalized, -2.f, 2.f), b = random(rng, normalized);
  const float eps = s.value("eps", 1e-5f);
  Prepared p;
  Graph& g = p.graph;
  std::optional<TensorId> wid, bid;
  if (affine != "none") wid = g.weight("weight", w);
  if (affine == "both") bid = g.weight("bias", b);
  const TensorId in = g.input("x", shape_x);
  g.output("y", dims ? ops::layer_norm(g, in, dims, wid, bid, eps) : ops::layer_norm_channels(g, in, wid, bid, eps));
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t j = 0; j < L; ++j) mean += x.data[at(r, j)];
      mean /= double(L);
      for (int64_t j = 0; j < L; ++j) var += (x.data[at(r, j)] - mean) * (x.data[at(r, j)] - mean);
      const double scale = 1.0 / std::sqrt(var / double(L) + double(eps));
      for (int64_t j = 0; j < L; ++j)
        y[at(r, j)] = (x.data[at(r, j)] - mean) * scale * (affine != "none" ? w.data[j] : 1.0) +
                      (affine == "both" ? b.data[j] : 0.0);
    }
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const char* affine : {"both", "weight", "none"}) {
    specs.push_back({{"x", {3, 5, 1}}, {"dims", 1}, {"affine", affine}});
    specs.push_back({{"x", {1, 7, 3}}, {"dims", 1}, {"affine", affine}});
    specs.push_back({{"x", {2, 96, 7, 9}}, {"dims", 0}, {"affine", affine}});
  }
  specs.push_back({{"x", {3, 2, 5, 7}}, {"dims", 2}});
  specs.push_back({{"x", {2, 3, 5, 7}}, {"dims", 3}});
  specs.push_back({{"x", {1, 197, 768}}, {"dims", 1}});  // a ViT's tokens: a workgroup per row
  specs.push_back({{"x", {3, 4, 1000}}, {"dims", 1}});
  specs.push_back({{"x", {3, 10}}, {"dims", 0}});
  specs.push_back({{"x", {3, 3, 5}}, {"dims", 0}});
  specs.push_back({{"x", {1, 768, 7, 7}}, {"dims", 0}});  // ConvNeXt's last stage: few positions, long rows
  specs.push_back({{"x", {2, 197, 768}}, {"dims", 1}, {"offset", 100.0}, {"spread", 0.01}});
  specs.push_back({{"x", {1, 300, 5, 5}}, {"dims", 0}, {"offset", 100.0}, {"spread", 0.01}});
  specs.push_back({{"x", {3, 9, 50}}, {"dims", 1}, {"offset", 100.0}, {"spread", 0.01}, {"eps", 1e-6}});
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"x", {3, 9, 50}}, {"dims", 1}, {"special", kind}});
    specs.push_back({{"x", {2, 6, 300}}, {"dims", 1}, {"special", kind}});
    specs.push_back({{"x", {2, 16, 5, 5}}, {"dims", 0}, {"special", kind}});
  }
  if (!o.quick) {
    specs.push_back({{"x", {8, 197, 768}}, {"dims", 1}});
    specs.push_back({{"x", {2, 96, 56, 56}}, {"dims", 0}});
    specs.push_back({{"x", {3, 14, 14, 384}}, {"dims", 1}});  // ConvNeXt's channels-last form
  }
  return specs;
}

}  // namespace

void register_layer_norm_check(CheckRegistry& r) { r.add({"layer_norm", matrix, prepare}); }

}  // namespace vkattn::conformance
