// projection against float64: channel counts 1 to 257 (not multiples of the 64-wide tile), a
// single position, a prime grid and N = 16384.
#include <algorithm>

#include "ops/projection/projection_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

std::vector<double> reference::projection(const std::vector<float>& x, const std::vector<float>& w,
                                          const std::vector<float>& bias, int64_t B, int64_t C, int64_t M, int64_t N) {
  std::vector<double> y(B * M * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m) {
      double* row = &y[(b * M + m) * N];
      std::fill(row, row + N, static_cast<double>(bias[m]));
      for (int64_t c = 0; c < C; ++c) {
        const double wc = w[m * C + c];
        const float* xr = &x[(b * C + c) * N];
        for (int64_t n = 0; n < N; ++n) row[n] += wc * xr[n];
      }
    }
  return y;
}

namespace conformance {
namespace {

// {"B", "C", "M", "H", "W"}: x (B, C, H, W), weight (M, C), or (M, C, 1, 1) with "conv_weight": true,
// bias (M); "positions_major": true gives (B, N, M).
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), C = integer(s, "C"), M = integer(s, "M"), N = integer(s, "H") * integer(s, "W");
  Prepared p;
  auto x = random(rng, {B, C, integer(s, "H"), integer(s, "W")}), b = random(rng, {M});
  auto w = random(rng, s.value("conv_weight", false) ? Shape{M, C, 1, 1} : Shape{M, C});
  Graph& g = p.graph;
  const bool positions_major = s.value("positions_major", false);
  g.output("y", ops::projection(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b), positions_major));
  p.reference = [=] {
    auto y = reference::projection(x.data, w.data, b.data, B, C, M, N);
    if (!positions_major) return Outputs{{"y", y}};
    std::vector<double> t(y.size());
    for (int64_t i = 0; i < B; ++i)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) t[(i * N + n) * M + m] = y[(i * M + m) * N + n];
    return Outputs{{"y", t}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  auto add = [&](int64_t C, int64_t B, int64_t H, int64_t W) {
    specs.push_back({{"B", B}, {"C", C}, {"M", C + 2 * std::max<int64_t>(1, C / 8)}, {"H", H}, {"W", W}});
  };
  for (int64_t C : {1, 3, 40, 72, 257}) {
    if (o.quick && (C == 3 || C == 72)) continue;
    add(C, 1, 1, 1);
    add(C, 8, 7, 13);
    if (!o.quick) add(C, 2, 32, 32);
    if (C <= (o.quick ? 3 : 40)) add(C, 1, 128, 128);  // N = 16384
  }
  if (o.quick) add(3, 1, 128, 128);
  for (int64_t C : {1, 40, 257})  // the position-major layout the fused attention reads
    specs.push_back({{"B", 3}, {"C", C}, {"M", C + 1}, {"H", 7}, {"W", 13}, {"positions_major", true}});
  // Under 8 positions an item (projection_narrow.comp on the cpu profile), both layouts, and the
  // large tiles (ops::lane_tile: 16 positions a lane with a partial last one, 8 over two items).
  specs.push_back({{"B", 3}, {"C", 33}, {"M", 1030}, {"H", 1}, {"W", 5}});
  specs.push_back({{"B", 2}, {"C", 9}, {"M", 12}, {"H", 2}, {"W", 3}, {"positions_major", true}});
  specs.push_back({{"B", 1}, {"C", 256}, {"M", 300}, {"H", 15}, {"W", 15}});
  specs.push_back({{"B", 2}, {"C", 400}, {"M", 220}, {"H", 9}, {"W", 11}, {"positions_major", true}});
  return specs;
}

}  // namespace

void register_projection_check(CheckRegistry& r) { r.add({"projection", matrix, prepare}); }

}  // namespace conformance
}  // namespace vkattn
