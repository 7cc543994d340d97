// pad: its conformance cases on the test device, the values F.pad gives on a small exact case, the
// arguments it refuses, and a network file's pad layer.
#include "gpu.h"

namespace ops = vkattn::ops;
using vkattn::Shape;

TEST_CASE("pad matches the reference in every mode, rank and kind of pad") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const char* mode : {"constant", "reflect", "edge"}) {
    specs.push_back({{"x", {3, 17}}, {"pad", {5, 2}}, {"mode", mode}});
    specs.push_back({{"x", {2, 3, 13, 17}}, {"pad", {3, 2, 0, 4}}, {"mode", mode}});
    specs.push_back({{"x", {2, 3, 4, 5}}, {"pad", {1, 1, 0, 0, 2, 1}}, {"mode", mode}});
    specs.push_back({{"x", {2, 2, 3, 2, 3, 2, 5}}, {"pad", {2, 1, 1, 1}}, {"mode", mode}});
    specs.push_back({{"x", {2, 3, 9, 11}}, {"pad", {-2, 3, 1, -4}}, {"mode", mode}});
    specs.push_back({{"x", {2, 3, 4}}, {"pad", {0, 0, 0, 0}}, {"mode", mode}});
    specs.push_back({{"x", {2, 3, 7, 5}}, {"pad", {2, 1, 1, 3}}, {"mode", mode}, {"special", "nan"}});
  }
  specs.push_back({{"x", {3, 1, 1}}, {"pad", {2, 3, 4, 1}}, {"mode", "constant"}, {"value", -2.5}});
  specs.push_back({{"x", {1, 3, 5, 4}}, {"pad", {2, 70, 0, 0}}, {"mode", "edge"}});
  test::check_op("pad", specs);
}

TEST_CASE("pad gives F.pad's values: a constant, a reflection without the edge, the edge repeated") {
  test::NoValidationMessages quiet;
  const vkattn::HostTensor x{{1, 2, 3}, {1, 2, 3, 4, 5, 6}};
  const auto run = [&](ops::PadMode mode, std::vector<std::pair<int64_t, int64_t>> pads, float value = 0.f) {
    vkattn::Graph g;
    g.output("y", ops::pad(g, g.input("x", x.shape), std::move(pads), mode, value));
    return test::run_graph(g, {{"x", x}}, "y");
  };
  const auto constant = run(ops::PadMode::constant, {{1, 2}}, 9.f);
  CHECK(constant.shape == Shape{1, 2, 6});
  CHECK(constant.data == std::vector<float>{9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9});
  const auto reflect = run(ops::PadMode::reflect, {{2, 1}, {1, 0}});
  CHECK(reflect.shape == Shape{1, 3, 6});
  CHECK(reflect.data == std::vector<float>{6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5});
  const auto edge = run(ops::PadMode::edge, {{0, 2}, {0, 1}});
  CHECK(edge.data == std::vector<float>{1, 2, 3, 3, 3, 4, 5, 6, 6, 6, 4, 5, 6, 6, 6});
  const auto cropped = run(ops::PadMode::reflect, {{-1, 2}});  // reflected about the uncropped edge
  CHECK(cropped.data == std::vector<float>{2, 3, 2, 1, 5, 6, 5, 4});
}

TEST_CASE("pad refuses the batch, reflect pads as large as the dimension, and emptying a dimension") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 4, 5});
  CHECK(g.shape(ops::pad(g, x, {{1, 2}, {0, 3}}, ops::PadMode::reflect)) == Shape{2, 3, 7, 8});
  CHECK(g.shape(ops::pad(g, x, {{-2, 1}, {1, 1}, {2, 0}})) == Shape{2, 5, 6, 4});
  CHECK(g.shape(ops::pad(g, x, {})) == Shape{2, 3, 4, 5});
  CHECK_THROWS_WITH_AS(ops::pad(g, x, {{1, 1}, {1, 1}, {1, 1}, {1, 1}}),
                       "pad: it is given 4 (before, after) pairs, but the input (2, 3, 4, 5) has only 3 dimensions "
                       "after the batch, which it never pads.",
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::pad(g, x, {{5, 0}}, ops::PadMode::reflect),
                       "pad: reflect padding dimension 3 (size 5) by (5, 0) needs each pad smaller than the "
                       "dimension it pads.",
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::pad(g, x, {{0, 0}, {-3, -1}}),
                       "pad: padding dimension 2 (size 4) by (-3, -1) leaves no element.", vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::pad(g, x, {{int64_t{1} << 40, 0}}), doctest::Contains("out of range"), vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::pad(g, g.input("v", {4}), {}), doctest::Contains("(B, ...) with elements"), vkattn::Error);
  // Six padded dimensions with unpadded ones between them: 12 separate dimensions once merged.
  std::vector<std::pair<int64_t, int64_t>> alternate;
  for (int k = 0; k < 11; ++k) alternate.emplace_back(k % 2 ? 0 : 1, k % 2 ? 0 : 1);
  CHECK_THROWS_WITH_AS(ops::pad(g, g.input("w", {2, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3}), alternate),
                       doctest::Contains("more than 6 separate dimensions"), vkattn::Error);
}

namespace {

vkattn::SafeTensors network(const std::string& nodes) {
  return test::network_file(test::graph_json({3, 5, 7}, nodes, R"("p")"));
}
std::string refusal(const std::string& node) { return test::load_error(network(node)); }

}  // namespace

TEST_CASE("a network's pad layer takes F.pad's list, and bad keys are refused") {
  test::NoValidationMessages quiet;
  const auto net = vkattn::Network::from_safetensors(network(R"(
    {"type": "pad", "inputs": ["x"], "output": "a", "pad": [1, 2, 3, 0], "value": -1},
    {"type": "pad", "inputs": ["a"], "output": "b", "pad": [2, 2], "mode": "reflect"},
    {"type": "pad", "inputs": ["b"], "output": "p", "pad": [0, 0, -1, 2], "mode": "replicate"})"));
  vkattn::Graph g;
  const auto out = net.build(g, g.input("x", {2, 3, 5, 7}));
  REQUIRE(out.outputs.size() == 1);
  g.output("p", out.outputs[0].second);

  vkattn::Graph direct;
  const auto a = ops::pad(direct, direct.input("x", {2, 3, 5, 7}), {{1, 2}, {3, 0}}, ops::PadMode::constant, -1.f);
  const auto b = ops::pad(direct, a, {{2, 2}}, ops::PadMode::reflect);
  const auto p = ops::pad(direct, b, {{0, 0}, {-1, 2}}, ops::PadMode::edge);
  direct.output("p", p);
  CHECK(direct.shape(p) == Shape{2, 3, 9, 14});
  const auto input = test::random_tensor({2, 3, 5, 7});
  CHECK(test::run_graph(g, {{"x", input}}, "p").data == test::run_graph(direct, {{"x", input}}, "p").data);

  const std::string x_in = R"({"type": "pad", "inputs": ["x"], "output": "p", )";
  CHECK(refusal(x_in + R"("pad": [1, 2, 3]})").find("a (before, after) pair per dimension") != std::string::npos);
  CHECK(refusal(x_in + R"("mode": "reflect"})").find("needs a \"pad\"") != std::string::npos);
  CHECK(refusal(x_in + R"("pad": [1, 1], "mode": "circular"})")
            .find(R"("constant", "reflect", "replicate" or "edge")") != std::string::npos);
  CHECK(refusal(x_in + R"("pad": [1, 1], "mode": "edge", "value": 2})").find("goes with mode \"constant\" only") !=
        std::string::npos);
  CHECK(refusal(x_in + R"("pad": [7, 0], "mode": "reflect"})").find("node 1 (pad): pad: reflect padding dimension 3") !=
        std::string::npos);
  CHECK(refusal(x_in + R"("pad": [0, 0, 0, 0, 0, 0, 1, 1]})").find("never pads") != std::string::npos);
}
