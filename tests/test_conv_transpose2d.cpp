// conv_transpose2d against the double-precision reference, its shape errors, and as a network layer.
#include "gpu.h"

namespace {
vkattn::conformance::Spec conv(int64_t B, int64_t C, int64_t H, int64_t W, int64_t M, vkattn::Shape k,
                               vkattn::Shape stride, vkattn::Shape pad, vkattn::Shape out_pad = {0, 0},
                               int64_t groups = 1, vkattn::Shape dilation = {1, 1}) {
  return {{"B", B},           {"C", C},   {"H", H},         {"W", W},       {"M", M},
          {"k", k},           {"stride", stride},           {"pad", pad},   {"out_pad", out_pad},
          {"groups", groups}, {"dilation", dilation}};
}

vkattn::SafeTensors file(const std::string& network) {
  return test::network_file(network, {{"up.weight", test::random_tensor({8, 6, 4, 4})},
                                      {"up.bias", test::random_tensor({6})},
                                      {"dw.weight", test::random_tensor({6, 1, 3, 3})},
                                      {"dw.bias", test::random_tensor({6})}});
}
std::string refusal(const std::string& network) { return test::load_error(file(network)); }
}  // namespace

TEST_CASE("conv_transpose2d matches the reference") {
  test::check_op("conv_transpose2d", {
      conv(1, 1, 1, 1, 1, {1, 1}, {1, 1}, {0, 0}),                      // one element
      conv(2, 5, 7, 6, 3, {1, 1}, {2, 2}, {0, 0}, {1, 1}),              // 1x1 stride 2: gaps of bias
      conv(3, 16, 1, 1, 12, {4, 4}, {1, 1}, {0, 0}),                    // SAGAN's first layer, from 1x1
      conv(2, 12, 4, 4, 6, {4, 4}, {2, 2}, {1, 1}),                     // its upsampling blocks
      conv(1, 6, 5, 7, 5, {3, 3}, {2, 2}, {1, 1}, {1, 1}),              // 3x3 2x upsampling
      conv(2, 3, 6, 5, 7, {5, 5}, {2, 2}, {2, 2}, {1, 1}),              // 5x5
      conv(2, 5, 7, 6, 4, {3, 5}, {2, 3}, {1, 2}, {1, 0}, 1, {1, 2}),   // asymmetric, dilated
      conv(3, 7, 6, 5, 7, {3, 3}, {2, 2}, {1, 1}, {1, 1}, 7),           // depthwise
      conv(1, 9, 4, 5, 18, {5, 3}, {1, 2}, {2, 1}, {0, 1}, 3, {1, 2}),  // groups 3
  });
}

TEST_CASE("conv_transpose2d rejects shapes and options that do not fit") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 6, 4, 4});
  const auto w = g.weight("w", test::random_tensor({6, 2, 3, 3}));
  const auto b = g.weight("b", test::random_tensor({2})), b4 = g.weight("b4", test::random_tensor({4}));
  using vkattn::ops::conv_transpose2d;
  CHECK_THROWS_WITH_AS(conv_transpose2d(g, x, g.weight("w2", test::random_tensor({4, 2, 3, 3})), b),
                       doctest::Contains("expects 4 input channels"), vkattn::Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(g, x, w, b4), doctest::Contains("bias"), vkattn::Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(g, x, w, b4, {1, 1}, {0, 0}, {0, 0}, 4), doctest::Contains("must divide"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(g, x, w, b, {2, 2}, {0, 0}, {2, 0}),
                       doctest::Contains("smaller than either the stride or the dilation"), vkattn::Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(g, x, w, b, {1, 1}, {3, 3}), doctest::Contains("too large"), vkattn::Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(g, x, w, b, {0, 1}), doctest::Contains("at least 1"), vkattn::Error);
  CHECK(g.shape(conv_transpose2d(g, x, w, b4, {2, 2}, {1, 1}, {1, 1}, 2)) == vkattn::Shape{1, 4, 8, 8});
}

TEST_CASE("a network with conv_transpose2d layers loads, runs and refuses bad options") {
  test::NoValidationMessages quiet;
  const std::string head = R"({"format": 2, "inputs": [{"name": "x", "shape": [8, 3, 5]}], "nodes": [)";
  const std::string tail = R"(], "outputs": ["z"]})";
  const auto f = file(head + R"({"type": "conv_transpose2d", "name": "up", "inputs": ["x"], "output": "a",
      "stride": 2, "padding": [1, 0], "output_padding": [0, 1]},
    {"type": "conv_transpose2d", "name": "dw", "inputs": ["a"], "output": "z", "groups": 6, "dilation": [1, 2]})" + tail);
  const auto net = vkattn::Network::from_safetensors(f);
  vkattn::Graph g;
  g.output("z", net.build(g, g.input("x", {3, 8, 3, 5})).output);
  vkattn::Graph direct;
  const auto a = vkattn::ops::conv_transpose2d(direct, direct.input("x", {3, 8, 3, 5}),
                                               direct.weight("w", f.at("up.weight")), direct.weight("b", f.at("up.bias")),
                                               {2, 2}, {1, 0}, {0, 1});
  direct.output("z", vkattn::ops::conv_transpose2d(direct, a, direct.weight("w2", f.at("dw.weight")),
                                                   direct.weight("b2", f.at("dw.bias")), {1, 1}, {0, 0}, {0, 0}, 6,
                                                   {1, 2}));
  const auto input = test::random_tensor({3, 8, 3, 5});
  const auto from_file = test::run_graph(g, {{"x", input}}, "z"), from_ops = test::run_graph(direct, {{"x", input}}, "z");
  // (3 - 1) 2 - 2 + 3 + 1 = 6 rows, then + 2; (5 - 1) 2 + 3 + 1 + 1 = 13 columns, then + 4.
  CHECK(from_file.shape == vkattn::Shape{3, 6, 8, 17});
  CHECK(from_file.data == from_ops.data);

  const std::string up = R"({"type": "conv_transpose2d", "name": "up", "inputs": ["x"], "output": "z", )";
  CHECK(refusal(head + up + R"("stride": 2, "output_padding": 2})" + tail).find("output padding must be smaller") !=
        std::string::npos);
  CHECK(refusal(head + up + R"("groups": 3})" + tail).find("must divide the input channels") != std::string::npos);
  CHECK(refusal(head + up + R"("padding": [1, 2, 3]})" + tail).find("'padding' must be") != std::string::npos);
  CHECK(refusal(head + up + R"("kernel": 3})" + tail).find("kernel") != std::string::npos);
}
