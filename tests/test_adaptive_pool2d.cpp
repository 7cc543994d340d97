// adaptive_avg_pool2d and adaptive_max_pool2d against the double-precision reference; the layers
// from a network file, and their refusals.
#include "gpu.h"

namespace {

vkattn::SafeTensors file(const std::string& nodes) { return test::network_file(test::graph_json({3, 13, 17}, nodes)); }
vkattn::Network network(const std::string& nodes) { return vkattn::Network::from_safetensors(file(nodes)); }
std::string refusal(const std::string& nodes) { return test::load_error(file(nodes)); }

}  // namespace

TEST_CASE("adaptive pooling matches the reference, to smaller, dividing and larger sizes") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const auto& [in, size] : std::vector<std::pair<vkattn::Shape, vkattn::Shape>>{
           {{2, 5, 7, 13}, {1, 1}}, {{2, 3, 13, 17}, {7, 7}}, {{1, 5, 3, 3}, {5, 5}}, {{2, 3, 8, 12}, {4, 4}},
           {{3, 4, 10, 11}, {3, 5}}, {{2, 3, 7, 5}, {11, 2}}, {{2, 16, 28, 28}, {6, 6}}})
    specs.push_back({{"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"size", size}});
  test::check_op("adaptive_avg_pool2d", specs);
  test::check_op("adaptive_max_pool2d", specs);
}

TEST_CASE("adaptive pool layers load from a network file and run as their ops") {
  test::NoValidationMessages quiet;
  const auto net = network(R"({"type": "adaptive_max_pool2d", "inputs": ["x"], "output": "m", "size": [7, 9]},
                              {"type": "adaptive_avg_pool2d", "inputs": ["m"], "output": "y", "size": 5})");
  vkattn::Graph g;
  g.output("y", net.build(g, net.add_inputs(g, 2)).output);
  vkattn::Graph direct;
  const auto m = vkattn::ops::adaptive_max_pool2d(direct, direct.input("x", {2, 3, 13, 17}), {7, 9});
  direct.output("y", vkattn::ops::adaptive_avg_pool2d(direct, m, {5, 5}));
  const auto input = test::random_tensor({2, 3, 13, 17});
  const auto from_file = test::run_graph(g, {{"x", input}}, "y"), from_ops = test::run_graph(direct, {{"x", input}}, "y");
  CHECK(from_file.shape == vkattn::Shape{2, 3, 5, 5});
  CHECK(from_file.data == from_ops.data);
}

TEST_CASE("adaptive pooling refuses bad sizes and inputs with a sentence") {
  CHECK(refusal(R"({"type": "adaptive_avg_pool2d", "inputs": ["x"], "output": "y", "size": [0, 3]})")
            .find("\"size\" must be at least 1") != std::string::npos);
  CHECK(refusal(R"({"type": "adaptive_max_pool2d", "inputs": ["x"], "output": "y"})").find("needs a \"size\"") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "adaptive_max_pool2d", "inputs": ["x"], "output": "y", "size": [1, 2, 3]})")
            .find("'size' must be [h, w] or one number") != std::string::npos);
  vkattn::Graph g;
  CHECK_THROWS_WITH_AS(vkattn::ops::adaptive_avg_pool2d(g, g.input("flat", {2, 8}), {1, 1}),
                       doctest::Contains("adaptive_avg_pool2d: the input must be (B, C, H, W)"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::adaptive_max_pool2d(g, g.input("x", {1, 2, 3, 3}), {70000, 1}),
                       doctest::Contains("from 1 to 65536"), vkattn::Error);
}
