// clamp, hardswish, hardsigmoid, silu, gelu, elu and the math functions (exp, log, abs, floor,
// ceil, round, erf, softsign, softplus, mish) against float64, straight from PyTorch's definitions:
// random inputs in [-10, 10] (every piece and kink), in [-100, 100] (e^x overflows and underflows
// in float32 past 88 and -87), each with the points where a function changes piece planted at
// random places; NaN and infinities. Shapes that are and are not whole vec4s.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/activation/epilogue_check.h"
#include "vkattn/error.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// The kinks and edges: 0 and its neighbours, +-3 (hardswish, hardsigmoid), the ends of gelu's
// two erf pieces (|x| = sqrt 2) and of elu's two expm1 pieces (-0.5), e^x's float32 range (its
// last finite argument 88.72283 and where it reaches 0), 1 and its neighbours (log), halves
// (round), the ends of erf's pieces (+-1) and softplus's default threshold (20).
const std::vector<float> kEdges = {0.f,   -0.f,          1e-30f,      -1e-30f,     1e-6f,       -1e-6f,
                                   -3.f,  3.f,           -3.0000002f, -2.9999998f, 2.9999998f,  3.0000002f,
                                   6.f,   -6.f,          -0.5f,       -0.49999997f, 1.4142135f, -1.4142135f,
                                   1.4142137f, -1.4142137f, 87.f,     -87.f,       88.5f,       -88.5f,
                                   90.f,  -90.f,         100.f,       -100.f,      88.72283f,   88.72284f,
                                   -103.9f, -104.f,      1.f,         0.99999994f, 1.0000001f,  0.5f,
                                   1.5f,  2.5f,          -2.5f,       -1.f,        0.99999994f, -0.99999994f,
                                   20.f,  20.000002f,    19.999998f};

// float32's e^x in float64: past float32's largest number it is +inf, as torch.exp's.
double exp32(double v) {
  const double e = std::exp(v);
  return e > double(std::numeric_limits<float>::max()) ? INFINITY : e;
}

double softplus_ref(double v, double beta, double threshold) {
  return beta * v > threshold ? v : std::log1p(exp32(beta * v)) / beta;
}

const std::pair<std::string, ops::Unary> kUnary[] = {
    {"exp", ops::Unary::exp},     {"log", ops::Unary::log},   {"abs", ops::Unary::abs},
    {"floor", ops::Unary::floor}, {"ceil", ops::Unary::ceil}, {"round", ops::Unary::round},
    {"erf", ops::Unary::erf},     {"softsign", ops::Unary::softsign}, {"mish", ops::Unary::mish}};

double clamp_ref(double v, double lo, double hi) { return std::isnan(v) ? v : std::min(std::max(v, lo), hi); }

// One function's float64 reference, with the spec's options.
std::function<double(double)> reference(const std::string& op, const Spec& s) {
  if (op == "clamp") {
    const double lo = s.contains("min") ? double(s["min"].get<float>()) : -INFINITY;
    const double hi = s.contains("max") ? double(s["max"].get<float>()) : INFINITY;
    return [=](double v) { return clamp_ref(v, lo, hi); };
  }
  // The torch formulas, in their order: x * relu6(x + 3) / 6 is NaN at -inf, as is x / (1 + e^-x).
  if (op == "hardswish") return [](double v) { return v * std::min(std::max(v + 3, 0.0), 6.0) / 6; };
  if (op == "hardsigmoid") return [](double v) { return std::min(std::max(v + 3, 0.0), 6.0) / 6; };
  if (op == "silu") return [](double v) { return v / (1 + std::exp(-v)); };
  if (op == "gelu" && s.value("approximate", "none") == "tanh")
    return [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); };
  if (op == "gelu") return [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  if (op == "elu") {
    const double alpha = float(s.value("alpha", 1.0));
    return [=](double v) { return v > 0 ? v : alpha * std::expm1(v); };
  }
  if (op == "exp") return exp32;
  if (op == "log") return [](double v) { return std::log(v); };  // NaN below 0, -inf at 0
  if (op == "abs") return [](double v) { return std::fabs(v); };
  if (op == "floor") return [](double v) { return std::floor(v); };
  if (op == "ceil") return [](double v) { return std::ceil(v); };
  if (op == "round") return [](double v) { return std::nearbyint(v); };  // half to even
  if (op == "erf") return [](double v) { return std::erf(v); };
  if (op == "softsign") return [](double v) { return v / (1 + std::fabs(v)); };
  if (op == "softplus") {
    const double beta = float(s.value("beta", 1.0)), threshold = float(s.value("threshold", 20.0));
    return [=](double v) { return softplus_ref(v, beta, threshold); };
  }
  if (op == "mish") return [](double v) { return v * std::tanh(softplus_ref(v, 1, 20)); };
  throw Error("Internal error: no activation reference for '" + op + "'.");
}

TensorId build(const std::string& op, const Spec& s, Graph& g, TensorId x) {
  if (op == "clamp") {
    std::optional<float> min, max;
    if (s.contains("min")) min = s["min"].get<float>();
    if (s.contains("max")) max = s["max"].get<float>();
    return ops::clamp(g, x, min, max);
  }
  if (op == "hardswish") return ops::hardswish(g, x);
  if (op == "hardsigmoid") return ops::hardsigmoid(g, x);
  if (op == "silu") return ops::silu(g, x);
  if (op == "gelu") return ops::gelu(g, x, s.value("approximate", "none") == "tanh");
  if (op == "elu") return ops::elu(g, x, s.value("alpha", 1.f));
  if (op == "softplus") return ops::softplus(g, x, s.value("beta", 1.f), s.value("threshold", 20.f));
  for (const auto& [name, f] : kUnary)
    if (op == name) return ops::unary(g, f, x);
  throw Error("Internal error: no activation called '" + op + "'.");
}

// {"shape": [...], "range": r, options}: x uniform in [-r, r) with the edges (and a clamp's
// bounds) planted, or with "special" NaN or infinities sprinkled instead.
Prepared prepare(const std::string& op, const Spec& s, Rng& rng) {
  Prepared p;
  const float r = s.value("range", 10.f);
  auto x = random(rng, shape(s, "shape"), -r, r);
  if (special(s).empty() && x.data.size() >= 4 * kEdges.size()) {  // not all onto one element
    std::vector<float> edges = kEdges;
    for (const char* bound : {"min", "max"})
      if (s.contains(bound)) edges.push_back(s[bound].get<float>());
    std::uniform_int_distribution<size_t> at(0, x.data.size() - 1);
    for (float e : edges) x.data[at(rng)] = drawn(e);
  }
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  p.graph.output("y", build(op, s, p.graph, p.graph.input("x", x.shape)));
  const auto f = reference(op, s);
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    std::transform(x.data.begin(), x.data.end(), y.begin(), [&](float v) { return f(v); });
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  // float32 rounding, a few ulp; gelu's tails are e^-(argument) with the argument rounded to
  // float32 (as PyTorch's), which is relative error argument * 6e-8 there.
  p.bound = op == "gelu" ? 1e-5 : 1e-6;
  return p;
}

// The same shapes and special cases for each option set.
std::vector<Spec> matrix(const std::vector<Spec>& options, const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const Spec& option : options) {
    auto with = [&](Spec s) {
      for (const auto& [k, v] : option.items()) s[k] = v;
      specs.push_back(s);
    };
    with({{"shape", {1}}, {"range", 4}});  // one element is all of the error norm: no far tails
    with({{"shape", {3, 7, 13}}});
    with({{"shape", {3, 12, 5, 4}}});  // whole vec4s
    with({{"shape", {2, 4099}}, {"range", 100}});
    with({{"shape", {3, 7, 11}}, {"special", "nan"}});
    with({{"shape", {3, 12, 5, 4}}, {"special", "inf"}});
    if (!o.quick) with({{"shape", {8, 64, 56, 56}}});
  }
  return specs;
}

void add(CheckRegistry& r, const std::string& op, std::vector<Spec> options) {
  r.add({op, [=](const MatrixOptions& o) { return matrix(options, o); },
         [=](const Spec& s, Rng& rng) { return prepare(op, s, rng); }});
}

}  // namespace

const std::vector<std::string>& activation_step_names() {
  static const std::vector<std::string> names = {"relu", "relu6", "hardswish", "hardsigmoid", "silu", "gelu",
                                                 "gelu_tanh", "elu", "leaky_relu", "sigmoid", "tanh"};
  return names;
}

ActivationStep activation_step(const std::string& name) {
  if (name == "relu") return {ops::relu, [](double v) { return max_nan(v, 0.0); }};
  if (name == "relu6") return {[](Graph& g, TensorId x) { return ops::clamp(g, x, 0.f, 6.f); },
                               [](double v) { return clamp_ref(v, 0, 6); }};
  if (name == "leaky_relu") return {[](Graph& g, TensorId x) { return ops::leaky_relu(g, x, 0.1f); },
                                    [](double v) { return v >= 0 ? v : double(0.1f) * v; }};
  if (name == "sigmoid") return {ops::sigmoid, [](double v) { return 1 / (1 + std::exp(-v)); }};
  if (name == "tanh") return {ops::tanh, [](double v) { return std::tanh(v); }};
  const std::string op = name == "gelu_tanh" ? "gelu" : name;
  const Spec spec = name == "gelu_tanh" ? Spec{{"approximate", "tanh"}} : Spec::object();
  if (std::find(activation_step_names().begin(), activation_step_names().end(), name) == activation_step_names().end())
    throw Error("Internal error: no activation step named '" + name + "'.");
  return {[=](Graph& g, TensorId x) { return build(op, spec, g, x); }, reference(op, spec)};
}

std::pair<TensorId, ReferenceStep> then_step(Prepared& p, TensorId y, const std::string& name, size_t i, Rng& rng) {
  Graph& g = p.graph;
  if (name != "add") {
    const ActivationStep a = activation_step(name);
    return {a.build(g, y), [f = a.reference](std::vector<double>& v) { std::transform(v.begin(), v.end(), v.begin(), f); }};
  }
  HostTensor r = random(rng, g.shape(y));
  const std::string input = "r" + std::to_string(i);
  const TensorId sum = ops::binary(g, ops::Binary::add, y, g.input(input, r.shape));
  ReferenceStep step = [values = r.data](std::vector<double>& v) {
    for (size_t e = 0; e < v.size(); ++e) v[e] += values[e];
  };
  p.inputs.push_back({input, std::move(r)});
  return {sum, step};
}

void register_activation_check(CheckRegistry& r) {
  // hardtanh's default, relu6, one bound only each way, and min > max (all max, as torch.clamp).
  add(r, "clamp",
      {{{"min", -1}, {"max", 1}}, {{"min", 0}, {"max", 6}}, {{"min", 0.5}}, {{"max", -0.25}}, {{"min", 2}, {"max", -1}}});
  add(r, "hardswish", {Spec::object()});
  add(r, "hardsigmoid", {Spec::object()});
  add(r, "silu", {Spec::object()});
  add(r, "gelu", {{{"approximate", "none"}}, {{"approximate", "tanh"}}});
  add(r, "elu", {{{"alpha", 1.0}}, {{"alpha", 0.3}}});
  for (const auto& [name, f] : kUnary) add(r, name, {Spec::object()});
  // The default, a steeper one with a lower threshold, a negative beta, a threshold past e^x's
  // float32 range (inf there, as PyTorch's).
  add(r, "softplus", {Spec::object(), {{"beta", 2.0}, {"threshold", 10.0}}, {{"beta", -0.5}}, {{"threshold", 100.0}}});
}

}  // namespace vkattn::conformance
