// softmax and log_softmax against float64: rows shorter and longer than a 256-thread workgroup,
// logits near 500 (a softmax that does not subtract the row max overflows), and more rows than
// the grid's x limit; log_softmax also on rows spread so wide that softmax underflows to 0. Both
// with NaN and infinities in rows of either kernel: a row holding NaN or +inf, or of -inf alone,
// is NaN (torch.softmax and log_softmax), a -inf among numbers gives 0 (log: -inf). Also over
// other dimensions than the last (rows of elements a stride apart), with NaN and infinities there.
#include <algorithm>
#include <cmath>

#include "ops/softmax/softmax_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {
namespace {

// The rows of a tensor along one dimension: `count` rows of L elements `inner` apart (inner is the
// product of the dimensions after it); row r starts at (r / inner) * L * inner + r % inner.
struct Rows {
  int64_t count, L, inner;
  int64_t at(int64_t r, int64_t j) const { return (r / inner) * L * inner + r % inner + j * inner; }
};

Rows rows_along(const Shape& s, int64_t dim) {
  const size_t k = size_t(dim < 0 ? dim + int64_t(s.size()) : dim);
  int64_t inner = 1;
  for (size_t d = k + 1; d < s.size(); ++d) inner *= s[d];
  return {element_count(s) / s[k], s[k], inner};
}

// softmax (or log_softmax) of each row in float64: exp(x - max) / sum exp(x - max) (or x - max -
// log(sum exp(x - max))), max NaN if any element is.
std::vector<double> softmax_rows(const std::vector<double>& x, const Rows& rows, bool log) {
  std::vector<double> y(x.size()), row(rows.L);
  for (int64_t r = 0; r < rows.count; ++r) {
    for (int64_t j = 0; j < rows.L; ++j) row[j] = x[rows.at(r, j)];
    const double mx = conformance::max_nan(row.data(), row.data() + rows.L);
    double sum = 0;
    for (int64_t j = 0; j < rows.L; ++j) sum += std::exp(row[j] - mx);
    for (int64_t j = 0; j < rows.L; ++j)
      y[rows.at(r, j)] = log ? row[j] - mx - std::log(sum) : std::exp(row[j] - mx) / sum;
  }
  return y;
}

}  // namespace

std::vector<double> reference::softmax(const std::vector<double>& x, int64_t rows, int64_t L) {
  return softmax_rows(x, {rows, L, 1}, false);
}

namespace conformance {
namespace {

// With s "special": by row r, "nan": r % 4 = 0 one NaN, 1 a NaN first, 2 all NaN; "inf": r % 5 = 0
// one +inf, 1 +inf first and a -inf, 2 all -inf, 3 every third -inf. Other rows stay as they are.
void plant(HostTensor& x, const Rows& rows, const Spec& s, Rng& rng) {
  const std::string kind = special(s);
  if (kind.empty()) return;
  const int64_t L = rows.L;
  std::uniform_int_distribution<int64_t> column(0, L - 1);
  for (int64_t r = 0; r < rows.count; ++r) {
    auto at = [&](int64_t j) -> float& { return x.data[rows.at(r, j)]; };
    if (kind == "nan") {
      if (r % 4 == 0) at(column(rng)) = kNaN;
      if (r % 4 == 1) at(0) = kNaN;
      if (r % 4 == 2)
        for (int64_t j = 0; j < L; ++j) at(j) = kNaN;
    } else {
      if (r % 5 == 0) at(column(rng)) = kInf;
      if (r % 5 == 1) at(0) = kInf, at(column(rng)) = -kInf;
      if (r % 5 == 2)
        for (int64_t j = 0; j < L; ++j) at(j) = -kInf;
      if (r % 5 == 3)
        for (int64_t j = 0; j < L; j += 3) at(j) = -kInf;
    }
  }
}

// {"B", "rows", "L"}: x (B, rows, L); or {"shape"} for any shape; rows along "dim" (default: the
// last, through the builders without dim). softmax's x in [470, 530): a softmax that does not
// subtract the row max overflows; log_softmax's in [-200, 200): most of softmax underflows.
Prepared prepare(const Spec& s, Rng& rng, bool log) {
  const Shape shape = s.contains("shape") ? conformance::shape(s, "shape")
                                          : Shape{integer(s, "B"), integer(s, "rows"), integer(s, "L")};
  const int64_t dim = s.value("dim", int64_t{-1});
  const Rows rows = rows_along(shape, dim);
  Prepared p;
  auto x = log ? random(rng, shape, -200.f, 200.f) : random(rng, shape, 470.f, 530.f);
  plant(x, rows, s, rng);
  const TensorId in = p.graph.input("x", shape);
  p.graph.output("y", s.contains("dim") ? (log ? ops::log_softmax(p.graph, in, dim) : ops::softmax(p.graph, in, dim))
                                        : (log ? ops::log_softmax(p.graph, in) : ops::softmax(p.graph, in)));
  p.reference = [=] { return Outputs{{"y", softmax_rows(widen(x.data), rows, log)}}; };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

// NaN and infinities in short rows (one per invocation) and long ones (one per workgroup).
void add_special(std::vector<Spec>& specs) {
  for (const char* kind : {"nan", "inf"})
    for (int64_t L : {1, 100, 257}) specs.push_back({{"B", 2}, {"rows", 10}, {"L", L}, {"special", kind}});
}

// Other dimensions than the last: each of a rank-4 tensor's (dim 3 through the dim argument),
// negative dims, rows longer than a workgroup, more rows than one workgroup holds, rank 3 and 5,
// a dim whose later dimensions are all 1 (contiguous rows again); NaN and infinities.
void add_dims(std::vector<Spec>& specs) {
  for (int64_t dim : {1, 2, 3, -3}) specs.push_back({{"shape", {2, 5, 7, 3}}, {"dim", dim}});
  specs.push_back({{"shape", {3, 4, 6, 5}}, {"dim", 2}});
  specs.push_back({{"shape", {2, 300, 3, 3}}, {"dim", 1}});
  specs.push_back({{"shape", {2, 7, 1, 1}}, {"dim", 1}});
  specs.push_back({{"shape", {3, 10, 9}}, {"dim", 1}});
  specs.push_back({{"shape", {2, 13, 70}}, {"dim", -2}});
  specs.push_back({{"shape", {2, 3, 4, 5, 2}}, {"dim", 2}});
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"shape", {2, 6, 5, 4}}, {"dim", 1}, {"special", kind}});
    specs.push_back({{"shape", {2, 3, 9, 4}}, {"dim", 2}, {"special", kind}});
    specs.push_back({{"shape", {3, 11, 7}}, {"dim", 1}, {"special", kind}});
  }
}

std::vector<Spec> log_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (int64_t L : {1, 10, 257, 4097})
    if (!o.quick || L != 4097) specs.push_back({{"B", 3}, {"rows", 5}, {"L", L}});
  add_special(specs);
  add_dims(specs);
  return specs;
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
  add_dims(specs);
  return specs;
}

}  // namespace

void register_softmax_check(CheckRegistry& r) {
  r.add({"softmax", matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, false); }});
  r.add({"log_softmax", log_matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, true); }});
}

}  // namespace conformance
}  // namespace vkattn
