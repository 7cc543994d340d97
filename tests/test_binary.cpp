// add, sub, mul, div and pow: conformance cases of each broadcasting form on the test device, pow's
// values where GLSL's pow() alone would be wrong (negative bases, zeros, infinities, NaN), and a
// network file's pow layer with a scalar exponent.
#include <cmath>
#include <limits>

#include "gpu.h"

namespace ops = vkattn::ops;
using vkattn::Shape;

TEST_CASE("binary ops match the reference with two values, a constant, a scalar and the constant first") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const char* op : {"add", "sub", "mul", "div", "pow"}) {
    specs.push_back({{"op", op}, {"a", {3, 5, 7, 13}}, {"b", {3, 5, 7, 13}}});
    specs.push_back({{"op", op}, {"a", {1, 4, 7, 9}}, {"b", {3, 4, 7, 1}}});
    specs.push_back({{"op", op}, {"a", {2, 6, 5, 3}}, {"b", {6, 1, 1}}, {"b_constant", 1}});
    specs.push_back({{"op", op}, {"a", {2, 6, 5, 3}}, {"b", Shape{}}, {"b_constant", -1}});
  }
  specs.push_back({{"op", "pow"}, {"a", {3, 5, 7, 13}}, {"b", {3, 5, 7, 13}}, {"exponents", "real"}});
  for (const double e : {2.0, 0.5, 0.0})
    specs.push_back(
        {{"op", "pow"}, {"a", {2, 197, 24}}, {"b", Shape{}}, {"b_constant", 1}, {"exponent", e}, {"zeros", 6}});
  specs.push_back({{"op", "pow"}, {"a", {2, 6, 5, 3}}, {"b", Shape{}}, {"b_constant", -1}, {"base", -2.0}});
  specs.push_back({{"op", "pow"}, {"a", {2, 3, 4, 5}}, {"b", {3, 1, 5}}, {"exponents", "real"}, {"special", "inf"}});
  test::check_op("binary", specs);
}

TEST_CASE("pow keeps the sign of a negative base under a whole exponent and follows C's table elsewhere") {
  test::NoValidationMessages quiet;
  constexpr float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  struct Case {
    float base, exponent, expected;
  };
  const std::vector<Case> cases = {
      {-2, 3, -8},   {-2, 2, 4},        {-2, -1, -0.5f}, {-2, -2, 0.25f}, {-3, 1, -3},     {0, 0, 1},
      {nan, 0, 1},   {1, nan, 1},       {0, -1, inf},    {-0.f, -1, -inf}, {0, 2, 0},      {-0.5f, 0.5f, nan},
      {-8, 1 / 3.f, nan}, {4, 0.5f, 2}, {9, 2, 81},      {-inf, 3, -inf}, {-inf, -3, -0.f}, {-inf, 0.5f, inf},
      {inf, -0.5f, 0}, {-1, inf, 1},    {0.5f, -inf, inf}, {2, -inf, 0},  {-2, inf, inf},  {2, nan, nan},
      {nan, 1, nan}, {2, 10, 1024},     {1.5f, 1.5f, 1.8371173f}, {-1.5f, 3, -3.375f}, {-1.5f, 2.5f, nan}};
  const int64_t n = int64_t(cases.size());
  vkattn::HostTensor a{{1, n}, {}}, b{{1, n}, {}};
  for (const Case& c : cases) {
    a.data.push_back(c.base);
    b.data.push_back(c.exponent);
  }
  vkattn::Graph g;
  g.output("y", ops::binary(g, ops::Binary::pow, g.input("a", a.shape), g.input("b", b.shape)));
  const auto y = test::run_graph(g, {{"a", a}, {"b", b}}, "y");
  REQUIRE(y.data.size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].base);
    CAPTURE(cases[i].exponent);
    const float want = cases[i].expected, got = y.data[i];
    if (std::isnan(want)) CHECK(std::isnan(got));
    else if (!std::isfinite(want) || want == 0) CHECK((got == want && std::signbit(got) == std::signbit(want)));
    else CHECK(got == doctest::Approx(want).epsilon(1e-6));
  }
}

TEST_CASE("a network's pow layer takes a scalar exponent or a constant base") {
  test::NoValidationMessages quiet;
  const auto net = vkattn::Network::from_safetensors(test::network_file(test::graph_json({4, 6}, R"(
    {"type": "pow", "inputs": ["x"], "output": "s", "scalar": 2},
    {"type": "pow", "inputs": ["s"], "output": "y", "scalar": 0.5, "constant_first": true})")));
  vkattn::Graph g;
  const auto out = net.build(g, g.input("x", {3, 4, 6}));
  REQUIRE(out.outputs.size() == 1);
  g.output("y", out.outputs[0].second);
  const auto x = test::random_tensor({3, 4, 6});
  const auto y = test::run_graph(g, {{"x", x}}, "y");
  REQUIRE(y.shape == Shape{3, 4, 6});
  for (size_t i = 0; i < x.data.size(); ++i)
    CHECK(y.data[i] == doctest::Approx(std::pow(0.5, double(x.data[i]) * x.data[i])).epsilon(1e-5));
  const std::string lone = R"({"type": "pow", "inputs": ["x"], "output": "y"})";
  CHECK(test::load_error(test::network_file(test::graph_json({4, 6}, lone))).find("reads two values") !=
        std::string::npos);
}
