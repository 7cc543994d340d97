// max_pool2d and avg_pool2d against the double-precision reference, with every option PyTorch's
// pools take; the layers from a network file, and their refusals.
#include <array>

#include "gpu.h"

namespace {

vkattn::conformance::Spec window(vkattn::Shape in, vkattn::Shape k, vkattn::Shape s, vkattn::Shape pad) {
  return {{"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"k", k}, {"stride", s}, {"pad", pad}};
}

vkattn::SafeTensors file(const std::string& nodes) { return test::network_file(test::graph_json({3, 8, 11}, nodes)); }
vkattn::Network network(const std::string& nodes) { return vkattn::Network::from_safetensors(file(nodes)); }
std::string refusal(const std::string& nodes) { return test::load_error(file(nodes)); }

}  // namespace

TEST_CASE("max and average pooling match the reference, padding included") {
  const std::vector<std::array<vkattn::Shape, 3>> windows = {  // kernel, stride, padding
      {{{2, 2}, {2, 2}, {0, 0}}}, {{{3, 3}, {2, 2}, {1, 1}}}, {{{3, 3}, {1, 1}, {1, 1}}},
      {{{1, 1}, {1, 1}, {0, 0}}}, {{{3, 2}, {3, 1}, {0, 1}}}};
  std::vector<vkattn::conformance::Spec> specs;
  for (const auto& [k, s, pad] : windows)
    for (const vkattn::Shape& in : {vkattn::Shape{1, 1, 3, 3}, {2, 5, 7, 13}, {3, 16, 28, 28}})
      specs.push_back(window(in, k, s, pad));
  test::check_op("max_pool2d", specs);
  test::check_op("avg_pool2d", specs);
}

TEST_CASE("ceil_mode keeps a window that starts in the input and drops one in the right padding") {
  std::vector<vkattn::conformance::Spec> specs;
  for (auto spec : {window({2, 3, 8, 5}, {3, 2}, {2, 2}, {1, 1}), window({3, 2, 6, 11}, {3, 3}, {3, 3}, {1, 1}),
                    window({1, 4, 7, 13}, {2, 2}, {2, 2}, {0, 0}), window({2, 3, 3, 3}, {5, 5}, {5, 5}, {0, 0})}) {
    spec["ceil"] = 1;
    specs.push_back(spec);
  }
  test::check_op("max_pool2d", specs);
  test::check_op("avg_pool2d", specs);
  vkattn::Graph g;
  const auto x = g.input("x", {1, 1, 5, 8});
  CHECK(g.shape(vkattn::ops::max_pool2d(g, x, {2, 2}, {2, 2}, {1, 1}, {{1, 1}, true})) ==
        vkattn::Shape{1, 1, 3, 5});  // rows: a 4th window would start at 5, in the padding
  CHECK(g.shape(vkattn::ops::avg_pool2d(g, x, {2, 2}, {2, 2}, {0, 0}, {.ceil_mode = true})) == vkattn::Shape{1, 1, 3, 4});
}

TEST_CASE("dilated max pooling, and the average's divisor with and without the padding") {
  std::vector<vkattn::conformance::Spec> dilated;
  for (auto spec : {window({2, 5, 9, 13}, {3, 3}, {1, 1}, {1, 1}), window({1, 3, 11, 7}, {3, 2}, {2, 1}, {1, 0})}) {
    spec["dil"] = {2, 3};
    dilated.push_back(spec);
  }
  auto empty = window({2, 3, 4, 2}, {3, 3}, {5, 5}, {1, 1});  // no input element under the taps: -inf
  empty["dil"] = {3, 3};
  empty["ceil"] = 1;
  dilated.push_back(empty);
  test::check_op("max_pool2d", dilated);
  std::vector<vkattn::conformance::Spec> divisors;
  for (const auto& base : {window({3, 5, 7, 13}, {3, 3}, {2, 2}, {1, 1}), window({1, 3, 6, 11}, {3, 3}, {3, 3}, {1, 1})})
    for (int ceil : {0, 1}) {
      auto a = base, b = base;
      a["ceil"] = b["ceil"] = ceil;
      a["cip"] = 0;
      b["div"] = 5;
      divisors.insert(divisors.end(), {a, b});
    }
  test::check_op("avg_pool2d", divisors);
}

TEST_CASE("pooling rejects padding over half the kernel and windows larger than the input") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 2, 4, 4});
  CHECK_THROWS_WITH_AS(vkattn::ops::max_pool2d(g, x, {2, 2}, {2, 2}, {2, 0}), doctest::Contains("half the kernel"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::avg_pool2d(g, x, {5, 5}, {1, 1}), doctest::Contains("larger than"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::max_pool2d(g, x, {3, 3}, {1, 1}, {0, 0}, {{2, 2}}), doctest::Contains("larger than"),
                       vkattn::Error);  // a dilated window of 5
  CHECK_THROWS_WITH_AS(vkattn::ops::max_pool2d(g, x, {3, 3}, {1, 1}, {0, 0}, {{0, 1}}),
                       doctest::Contains("dilation must be at least 1"), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::max_pool2d(g, g.input("flat", {2, 8}), {2, 2}, {2, 2}), vkattn::Error);
}

TEST_CASE("pool layers with every key load from a network file and run as their ops") {
  test::NoValidationMessages quiet;
  const auto net = network(
      R"({"type": "max_pool2d", "inputs": ["x"], "output": "m", "kernel": [3, 2], "stride": 2, "padding": 1,
          "dilation": [1, 2], "ceil_mode": true},
         {"type": "avg_pool2d", "inputs": ["m"], "output": "y", "kernel": 3, "stride": [2, 1], "padding": 1,
          "ceil_mode": true, "count_include_pad": false, "divisor_override": 4})");
  vkattn::Graph g;
  g.output("y", net.build(g, net.add_inputs(g, 2)).output);
  vkattn::Graph direct;
  const auto m = vkattn::ops::max_pool2d(direct, direct.input("x", {2, 3, 8, 11}), {3, 2}, {2, 2}, {1, 1}, {{1, 2}, true});
  direct.output("y", vkattn::ops::avg_pool2d(direct, m, {3, 3}, {2, 1}, {1, 1}, {true, false, 4}));
  const auto input = test::random_tensor({2, 3, 8, 11});
  const auto from_file = test::run_graph(g, {{"x", input}}, "y"), from_ops = test::run_graph(direct, {{"x", input}}, "y");
  CHECK(from_file.shape == vkattn::Shape{2, 3, 3, 6});
  CHECK(from_file.data == from_ops.data);
}

TEST_CASE("pool layers refuse bad keys with a sentence") {
  const std::string head = R"({"type": "avg_pool2d", "inputs": ["x"], "output": "y", "kernel": 2, )";
  CHECK(refusal(head + R"("divisor_override": 0})").find("\"divisor_override\" must be a whole number from 1") !=
        std::string::npos);
  CHECK(refusal(head + R"("count_include_pad": 1})").find("\"count_include_pad\" must be true or false") !=
        std::string::npos);
  CHECK(refusal(head + R"("dilation": 2})").find("a key 'dilation'") != std::string::npos);
  CHECK(refusal(R"({"type": "max_pool2d", "inputs": ["x"], "output": "y", "kernel": 2, "ceil_mode": "yes"})")
            .find("\"ceil_mode\" must be true or false") != std::string::npos);
  CHECK(refusal(R"({"type": "max_pool2d", "inputs": ["x"], "output": "y", "kernel": 3, "dilation": 0})")
            .find("dilation must be at least 1") != std::string::npos);
}
