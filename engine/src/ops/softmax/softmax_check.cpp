// softmax and log_softmax against float64: rows shorter and longer than a 256-thread workgroup,
// logits near 500 (a softmax that does not subtract the row max overflows), and more rows than
// the grid's x limit; log_softmax also on rows spread so wide that softmax underflows to 0. Both
// with NaN and infinities in rows of either kernel: a row holding NaN or +inf, or of -inf alone,
// is NaN (torch.softmax and log_softmax), a -inf among numbers gives 0 (log: -inf).
#include <algorithm>
#include <cmath>

#include "ops/softmax/softmax_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

std::vector<double> reference::softmax(const std::vector<double>& x, int64_t rows, int64_t L) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const double* in = &x[r * L];
    double* out = &y[r * L];
    const double mx = conformance::max_nan(in, in + L);
    double sum = 0;
    for (int64_t j = 0; j < L; ++j) sum += out[j] = std::exp(in[j] - mx);
    for (int64_t j = 0; j < L; ++j) out[j] /= sum;
  }
  return y;
}

namespace conformance {
namespace {

std::vector<double> log_softmax_reference(const std::vector<double>& x, int64_t rows, int64_t L) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const double* in = &x[r * L];
    const double mx = max_nan(in, in + L);
    double sum = 0;
    for (int64_t j = 0; j < L; ++j) sum += std::exp(in[j] - mx);
    for (int64_t j = 0; j < L; ++j) y[r * L + j] = in[j] - mx - std::log(sum);
  }
  return y;
}

// With s "special": by row r, "nan": r % 4 = 0 one NaN, 1 a NaN first, 2 all NaN; "inf": r % 5 = 0
// one +inf, 1 +inf first and a -inf, 2 all -inf, 3 every third -inf. Other rows stay as they are.
void plant(HostTensor& x, const Spec& s, Rng& rng) {
  const std::string kind = special(s);
  if (kind.empty()) return;
  const int64_t L = x.shape.back(), rows = element_count(x.shape) / L;
  std::uniform_int_distribution<int64_t> column(0, L - 1);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x.data.data() + r * L;
    if (kind == "nan") {
      if (r % 4 == 0) row[column(rng)] = kNaN;
      if (r % 4 == 1) row[0] = kNaN;
      if (r % 4 == 2) std::fill(row, row + L, kNaN);
    } else {
      if (r % 5 == 0) row[column(rng)] = kInf;
      if (r % 5 == 1) row[0] = kInf, row[column(rng)] = -kInf;
      if (r % 5 == 2) std::fill(row, row + L, -kInf);
      if (r % 5 == 3)
        for (int64_t j = 0; j < L; j += 3) row[j] = -kInf;
    }
  }
}

// {"B", "rows", "L"}: x (B, rows, L) in [-200, 200): most of each row's softmax underflows.
Prepared prepare_log(const Spec& s, Rng& rng) {
  const Shape shape{integer(s, "B"), integer(s, "rows"), integer(s, "L")};
  Prepared p;
  auto x = random(rng, shape, -200.f, 200.f);
  plant(x, s, rng);
  p.graph.output("y", ops::log_softmax(p.graph, p.graph.input("x", shape)));
  p.reference = [=] {
    return Outputs{{"y", log_softmax_reference(widen(x.data), element_count(shape) / shape.back(), shape.back())}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

// NaN and infinities in short rows (one per invocation) and long ones (one per workgroup).
void add_special(std::vector<Spec>& specs) {
  for (const char* kind : {"nan", "inf"})
    for (int64_t L : {1, 100, 257}) specs.push_back({{"B", 2}, {"rows", 10}, {"L", L}, {"special", kind}});
}

std::vector<Spec> log_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (int64_t L : {1, 10, 257, 4097})
    if (!o.quick || L != 4097) specs.push_back({{"B", 3}, {"rows", 5}, {"L", L}});
  add_special(specs);
  return specs;
}

// {"B", "rows", "L"}: x (B, rows, L) in [470, 530); or {"shape"} for any shape, rows along the last axis.
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape shape = s.contains("shape") ? conformance::shape(s, "shape")
                                          : Shape{integer(s, "B"), integer(s, "rows"), integer(s, "L")};
  Prepared p;
  auto x = random(rng, shape, 470.f, 530.f);
  plant(x, s, rng);
  p.graph.output("y", ops::softmax(p.graph, p.graph.input("x", shape)));
  p.reference = [=] {
    return Outputs{{"y", reference::softmax(widen(x.data), element_count(shape) / shape.back(), shape.back())}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (int64_t L : {1, 255, 256, 257, 4097, 16384})
    for (int64_t rows : {1, 37})
      for (int64_t B : {1, 8})
        if (!o.quick || (B == 8) == (rows == 1)) specs.push_back({{"B", B}, {"rows", rows}, {"L", L}});
  // Short rows, one per invocation, over several workgroups of a batch item.
  specs.push_back({{"B", 2}, {"rows", 300}, {"L", 100}});
  // Long rows, one workgroup each: more rows than the grid's x limit (65535 on many devices) makes
  // a 2-D grid.
  specs.push_back({{"B", 1}, {"rows", std::min<int64_t>(o.device.max_workgroup_count[0], 1 << 20) + 17}, {"L", 257}});
  add_special(specs);
  return specs;
}

}  // namespace

void register_softmax_check(CheckRegistry& r) {
  r.add({"softmax", matrix, prepare});
  r.add({"log_softmax", log_matrix, prepare_log});
}

}  // namespace conformance
}  // namespace vkattn
