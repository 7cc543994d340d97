// add, sub, mul, div, pow, minimum and maximum against float64: equal shapes, per-channel and
// scalar constants, a constant on the left, broadcasting along rows, columns and the batch between
// two activations, tokens (B, N, C) with a (C) vector, 7 dimensions, and NaN and infinities passed
// through. pow also on negative bases with whole and fractional exponents, zeros (0^0, 0^-k), and
// the exponents 2 and 0.5 as scalar constants.
#include <algorithm>
#include <cmath>

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
    case ops::Binary::pow: return std::pow(a, b);  // C's table for signs, zeros and NaN, as numpy
    case ops::Binary::minimum: return std::isnan(a) || std::isnan(b) ? a + b : std::min(a, b);
    case ops::Binary::maximum: return std::isnan(a) || std::isnan(b) ? a + b : std::max(a, b);
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
  if (name == "pow") return ops::Binary::pow;
  if (name == "minimum") return ops::Binary::minimum;
  if (name == "maximum") return ops::Binary::maximum;
  return ops::Binary::div;
}

// Values of magnitude in [0.5, 2) and either sign.
void signed_magnitudes(HostTensor& t, Rng& rng) {
  std::uniform_real_distribution<float> magnitude(0.5f, 2.f);
  std::bernoulli_distribution negative(0.5);
  for (float& v : t.data) v = drawn(negative(rng) ? -magnitude(rng) : magnitude(rng));
}

// pow's operands by role (with a negative b_constant the constant b is the base): bases of either
// sign, exponents whole numbers in [-3, 3] or, with "exponents": "real", fractional ones of either
// sign; "base" or "exponent" fixes every value of that operand; "zeros" puts that many +0 and -0
// among the bases.
void power_operands(const Spec& s, HostTensor& base, HostTensor& exponent, Rng& rng) {
  signed_magnitudes(base, rng);
  if (s.value("exponents", "") == "real") signed_magnitudes(exponent, rng);
  else {
    std::uniform_int_distribution<int> whole(-3, 3);
    for (float& v : exponent.data) v = float(whole(rng));
  }
  if (s.contains("base")) std::fill(base.data.begin(), base.data.end(), s["base"].get<float>());
  if (s.contains("exponent")) std::fill(exponent.data.begin(), exponent.data.end(), s["exponent"].get<float>());
  std::uniform_int_distribution<size_t> at(0, base.data.size() - 1);
  for (int64_t i = 0; i < s.value("zeros", int64_t{0}); ++i) base.data[at(rng)] = i % 2 ? -0.f : 0.f;
}

// {"op", "a", "b", "b_constant", "special"}: a (an input) OP b (an input, or a constant weight when
// b_constant; a negative b_constant puts the constant on the left). Divisors lie in +-[0.5, 2];
// pow's operands are as power_operands says. special "nan" or "inf": some elements of a are NaN,
// or +inf and -inf.
Prepared prepare(const Spec& s, Rng& rng) {
  const ops::Binary op = parse_op(s["op"].get<std::string>());
  const Shape a_shape = shape(s, "a"), b_shape = shape(s, "b");
  const int64_t constant = s.value("b_constant", 0);
  HostTensor a = random(rng, a_shape), b = random(rng, b_shape);
  if (op == ops::Binary::pow) power_operands(s, constant < 0 ? b : a, constant < 0 ? a : b, rng);
  else signed_magnitudes(b, rng);
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
  // Vulkan lets pow() be exp2(v log2 u), each a few ulps off, the error growing with |v log2 u|.
  p.bound = op == ops::Binary::pow ? 1e-5 : 1e-6;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const char* op : {"add", "sub", "mul", "div", "pow", "minimum", "maximum"}) {
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
  // pow: fractional exponents (NaN for negative bases), x^2 and x^0.5 as numpy's x ** 2 and
  // x ** 0.5, 2^x and (-2)^x with the constant first, and zeros under whole exponents and x^0.
  specs.push_back({{"op", "pow"}, {"a", {3, 5, 7, 13}}, {"b", {3, 5, 7, 13}}, {"exponents", "real"}});
  specs.push_back({{"op", "pow"}, {"a", {2, 6, 5, 3}}, {"b", {6, 1, 1}}, {"b_constant", 1}, {"exponents", "real"}});
  for (const double e : {2.0, 0.5, 3.0, -1.0, 0.0})
    specs.push_back(
        {{"op", "pow"}, {"a", {2, 197, 24}}, {"b", Shape{}}, {"b_constant", 1}, {"exponent", e}, {"zeros", 6}});
  for (const double base : {2.0, -2.0})
    specs.push_back({{"op", "pow"}, {"a", {2, 6, 5, 3}}, {"b", Shape{}}, {"b_constant", -1}, {"base", base}});
  specs.push_back({{"op", "pow"}, {"a", {2, 6, 5, 3}}, {"b", Shape{}}, {"b_constant", -1}, {"base", 2.0},
                   {"exponents", "real"}});
  specs.push_back({{"op", "pow"}, {"a", {2, 4, 7, 9}}, {"b", {2, 4, 1, 9}}, {"zeros", 9}});
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"op", "pow"}, {"a", {2, 3, 4, 5}}, {"b", {3, 1, 5}}, {"exponents", "real"}, {"special", kind}});
    for (const double base : {1.0, -1.0, -0.5})  // 1^NaN = 1, (-1)^inf = 1, (-0.5)^-inf = inf
      specs.push_back({{"op", "pow"}, {"a", {2, 3, 4, 5}}, {"b", Shape{}}, {"b_constant", -1}, {"base", base},
                       {"special", kind}});
  }
  // minimum and maximum with the NaN and infinities in the right operand (a constant-first scalar).
  for (const char* op : {"minimum", "maximum"})
    for (const char* kind : {"nan", "inf"})
      specs.push_back({{"op", op}, {"a", {2, 3, 4, 5}}, {"b", Shape{}}, {"b_constant", -1}, {"special", kind}});
  return specs;
}

}  // namespace

void register_binary_check(CheckRegistry& r) { r.add({"binary", matrix, prepare}); }

}  // namespace vkattn::conformance
