// add, sub, mul and div against float64: equal shapes, per-channel and scalar constants, a
// constant on the left, broadcasting along rows, columns and the batch between two activations,
// tokens (B, N, C) with a (C) vector, 7 dimensions, and NaN and infinities passed through.
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

double combine(ops::Binary op, double a, double b) {
  switch (op) {
    case ops::Binary::add: return a + b;
    case ops::Binary::sub: return a - b;
    case ops::Binary::mul: return a * b;
    case ops::Binary::div: return a / b;
  }
  return 0;
}

// y = a OP b over the broadcast shape, in float64.
std::vector<double> reference(ops::Binary op, const HostTensor& a, const HostTensor& b, const Shape& out) {
  const size_t rank = out.size();
  auto strides = [&](const Shape& s) {
    std::vector<int64_t> st(rank, 0);
    int64_t step = 1;
    for (size_t k = 0; k < s.size(); ++k) {
      const size_t d = rank - 1 - k, at = s.size() - 1 - k;
      st[d] = s[at] == 1 ? 0 : step;
      step *= s[at];
    }
    return st;
  };
  const auto sa = strides(a.shape), sb = strides(b.shape);
  std::vector<double> y(element_count(out));
  for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
    int64_t rest = i, ia = 0, ib = 0;
    for (size_t d = rank; d-- > 0;) {
      const int64_t c = rest % out[d];
      rest /= out[d];
      ia += c * sa[d];
      ib += c * sb[d];
    }
    y[i] = combine(op, a.data[ia], b.data[ib]);
  }
  return y;
}

ops::Binary parse_op(const std::string& name) {
  if (name == "add") return ops::Binary::add;
  if (name == "sub") return ops::Binary::sub;
  if (name == "mul") return ops::Binary::mul;
  return ops::Binary::div;
}

// {"op", "a", "b", "b_constant", "special"}: a (an input) OP b (an input, or a constant weight when
// b_constant; a negative b_constant puts the constant on the left). Divisors lie in +-[0.5, 2].
// special "nan" or "inf": some elements of a are NaN, or +inf and -inf.
Prepared prepare(const Spec& s, Rng& rng) {
  const ops::Binary op = parse_op(s["op"].get<std::string>());
  const Shape a_shape = shape(s, "a"), b_shape = shape(s, "b");
  const int64_t constant = s.value("b_constant", 0);
  HostTensor a = random(rng, a_shape), b = random(rng, b_shape, 0.5f, 2.f);
  std::bernoulli_distribution negative(0.5);
  for (float& v : b.data) v = negative(rng) ? -v : v;
  sprinkle(a, special(s), 12, rng);
  Prepared p;
  const TensorId ta = p.graph.input("a", a_shape);
  const TensorId tb = constant ? p.graph.weight("b", b) : p.graph.input("b", b_shape);
  const TensorId y = constant < 0 ? ops::binary(p.graph, op, tb, ta) : ops::binary(p.graph, op, ta, tb);
  p.graph.output("y", y);
  const Shape out = p.graph.shape(y);
  p.reference = [=] { return Outputs{{"y", constant < 0 ? reference(op, b, a, out) : reference(op, a, b, out)}}; };
  p.inputs = {{"a", a}};
  if (!constant) p.inputs.emplace_back("b", b);
  p.bound = 1e-6;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const char* op : {"add", "sub", "mul", "div"}) {
    specs.push_back({{"op", op}, {"a", {1}}, {"b", {1}}});
    specs.push_back({{"op", op}, {"a", {3, 5, 7, 13}}, {"b", {3, 5, 7, 13}}});             // a residual sum
    specs.push_back({{"op", op}, {"a", {2, 6, 5, 3}}, {"b", {6, 1, 1}}, {"b_constant", 1}});  // per channel
    specs.push_back({{"op", op}, {"a", {2, 6, 5, 3}}, {"b", Shape{}}, {"b_constant", -1}});  // 1 - x, 2 / x
    specs.push_back({{"op", op}, {"a", {2, 4, 7, 9}}, {"b", {2, 4, 1, 9}}});                // along rows
    specs.push_back({{"op", op}, {"a", {1, 4, 7, 9}}, {"b", {3, 4, 7, 1}}});                // batch and columns
    specs.push_back({{"op", op}, {"a", {2, 197, 24}}, {"b", {24}}, {"b_constant", 1}});      // tokens + a vector
    specs.push_back({{"op", op}, {"a", {2, 3, 1, 2, 3, 2, 5}}, {"b", {3, 4, 1, 3, 1, 1}}, {"b_constant", 1}});
    for (const char* kind : {"nan", "inf"})
      specs.push_back({{"op", op}, {"a", {2, 3, 4, 5}}, {"b", {3, 1, 5}}, {"special", kind}});
    if (!o.quick) specs.push_back({{"op", op}, {"a", {8, 64, 56, 56}}, {"b", {8, 64, 56, 56}}});
  }
  return specs;
}

}  // namespace

void register_binary_check(CheckRegistry& r) { r.add({"binary", matrix, prepare}); }

}  // namespace vkattn::conformance
