// conv2d (the device profile's kernel) against the double-precision reference.
#include <cmath>

#include "gpu.h"

namespace {
vkattn::conformance::Spec conv(int64_t B, int64_t C, int64_t H, int64_t W, int64_t M, vkattn::Shape k,
                               vkattn::Shape stride, vkattn::Shape pad) {
  return {{"B", B}, {"C", C}, {"H", H}, {"W", W}, {"M", M}, {"k", k}, {"stride", stride}, {"pad", pad}};
}
}  // namespace

TEST_CASE("conv2d matches the reference for kernels, strides and paddings") {
  test::check_op("conv2d", {
      conv(1, 1, 1, 1, 1, {3, 3}, {1, 1}, {1, 1}),      // one pixel, all but the centre tap in padding
      conv(2, 3, 7, 13, 5, {3, 3}, {1, 1}, {1, 1}),     // prime sizes
      conv(1, 1, 28, 28, 16, {3, 3}, {1, 1}, {1, 1}),   // the classifier's first layer
      conv(3, 16, 14, 14, 64, {3, 3}, {1, 1}, {1, 1}),  // and its second
      conv(2, 40, 9, 11, 72, {5, 3}, {2, 1}, {2, 1}),   // rectangular kernel, stride 2 on one axis
      conv(1, 8, 32, 32, 257, {1, 1}, {1, 1}, {0, 0}),  // 1x1, M past four tiles
      conv(2, 3, 17, 17, 4, {4, 4}, {3, 3}, {0, 0}),    // stride larger than the rest of the last window
      conv(1, 2, 5, 6, 3, {5, 6}, {1, 1}, {0, 0}),      // the kernel covers the whole image
  });
}

TEST_CASE("conv2d rejects shapes that do not fit") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 3, 4, 4});
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w", test::random_tensor({2, 4, 3, 3})),
                                           g.weight("b", test::random_tensor({2}))),
                       doctest::Contains("input channels"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w2", test::random_tensor({2, 3, 5, 5})),
                                           g.weight("b2", test::random_tensor({2}))),
                       doctest::Contains("larger than the padded input"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w3", test::random_tensor({2, 3, 3, 3})),
                                           g.weight("b3", test::random_tensor({3}))),
                       doctest::Contains("bias"), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::conv2d(g, x, g.weight("w4", test::random_tensor({2, 3, 3, 3})),
                                      g.weight("b4", test::random_tensor({2})), {0, 1}),
                  vkattn::Error);
}

TEST_CASE("conv2d: an infinity in the image reaches only the outputs whose window holds it") {
  test::NoValidationMessages guard;
  // 3x3 ones over a 4x4 image of ones with padding 1; x[0, 0, 0, 0] is +inf. Zero padding must
  // stay zero next to it (a padded tap is not 0 * some element).
  vkattn::Graph g;
  g.output("y", vkattn::ops::conv2d(g, g.input("x", {1, 1, 4, 4}), g.weight("w", {{1, 1, 3, 3}, std::vector<float>(9, 1.f)}),
                                    g.weight("b", {{1}, {0.f}}), {1, 1}, {1, 1}));
  vkattn::HostTensor x{{1, 1, 4, 4}, std::vector<float>(16, 1.f)};
  x.data[0] = INFINITY;
  vkattn::Executor exec(test::gpu(), g);
  exec.set_input("x", x);
  exec.run();
  const auto y = exec.output("y").data;
  CHECK(std::isinf(y[0]));       // its window holds the infinity
  CHECK(y[15] == 4.f);           // the bottom-right corner: 2x2 ones, 5 padded taps
  CHECK(y[2 * 4 + 2] == 9.f);    // inside, away from it
  CHECK(y[3 * 4 + 0] == 4.f);    // the bottom-left corner
}

namespace {
vkattn::conformance::Spec grouped(vkattn::conformance::Spec s, int64_t groups, vkattn::Shape dilation = {1, 1}) {
  s["groups"] = groups;
  s["dilation"] = dilation;
  return s;
}

vkattn::SafeTensors grouped_file(const std::string& network) {
  return test::network_file(network, {{"dw.weight", test::random_tensor({6, 1, 3, 3})},
                                      {"dw.bias", test::random_tensor({6})},
                                      {"g.weight", test::random_tensor({9, 2, 3, 2})},
                                      {"g.bias", test::random_tensor({9})}});
}
std::string grouped_refusal(const std::string& network) { return test::load_error(grouped_file(network)); }
}  // namespace

TEST_CASE("conv2d matches the reference with groups and dilation") {
  test::check_op("conv2d", {
      grouped(conv(2, 8, 13, 11, 8, {3, 3}, {1, 1}, {1, 1}), 8),        // depthwise 3x3
      grouped(conv(1, 6, 16, 15, 6, {5, 5}, {2, 2}, {2, 2}), 6),        // depthwise 5x5, stride 2
      grouped(conv(3, 5, 7, 9, 10, {3, 3}, {2, 1}, {1, 0}), 5),         // channel multiplier 2
      grouped(conv(2, 9, 8, 7, 6, {3, 2}, {1, 2}, {1, 1}), 3),          // groups 3
      grouped(conv(1, 3, 12, 14, 5, {3, 3}, {1, 1}, {2, 2}), 1, {2, 2}),  // atrous
      grouped(conv(2, 6, 11, 10, 4, {3, 5}, {2, 1}, {2, 1}), 2, {2, 1}),  // both, asymmetric
  });
}

TEST_CASE("conv2d rejects groups and dilations that do not fit") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 6, 8, 8});
  const auto b = g.weight("b", test::random_tensor({4}));
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w", test::random_tensor({4, 1, 3, 3})), b, {1, 1},
                                           {0, 0}, 4),
                       doctest::Contains("must divide the input channels"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w2", test::random_tensor({4, 2, 3, 3})), b, {1, 1},
                                           {0, 0}, 2),
                       doctest::Contains("expects 4 input channels"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w3", test::random_tensor({4, 6, 3, 3})), b, {1, 1},
                                           {0, 0}, 0),
                       doctest::Contains("at least 1"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w4", test::random_tensor({4, 6, 3, 3})), b, {1, 1},
                                           {0, 0}, 1, {4, 1}),
                       doctest::Contains("larger than the padded input"), vkattn::Error);
}

TEST_CASE("a network with depthwise and grouped dilated conv2d layers loads, runs and refuses bad options") {
  test::NoValidationMessages quiet;
  const std::string head = R"({"format": 2, "inputs": [{"name": "x", "shape": [6, 9, 8]}], "nodes": [)";
  const std::string tail = R"(], "outputs": ["z"]})";
  const auto f = grouped_file(head + R"({"type": "conv2d", "name": "dw", "inputs": ["x"], "output": "a",
      "padding": 1, "stride": [2, 1], "groups": 6},
    {"type": "conv2d", "name": "g", "inputs": ["a"], "output": "z", "groups": 3, "dilation": [1, 2],
      "padding": [1, 0]})" + tail);
  const auto net = vkattn::Network::from_safetensors(f);
  vkattn::Graph g;
  g.output("z", net.build(g, g.input("x", {3, 6, 9, 8})).output);
  vkattn::Graph direct;
  const auto a = vkattn::ops::conv2d(direct, direct.input("x", {3, 6, 9, 8}), direct.weight("w", f.at("dw.weight")),
                                     direct.weight("b", f.at("dw.bias")), {2, 1}, {1, 1}, 6);
  direct.output("z", vkattn::ops::conv2d(direct, a, direct.weight("w2", f.at("g.weight")),
                                         direct.weight("b2", f.at("g.bias")), {1, 1}, {1, 0}, 3, {1, 2}));
  const auto input = test::random_tensor({3, 6, 9, 8});
  const auto from_file = test::run_graph(g, {{"x", input}}, "z"), from_ops = test::run_graph(direct, {{"x", input}}, "z");
  CHECK(from_file.shape == vkattn::Shape{3, 9, 5, 6});
  CHECK(from_file.data == from_ops.data);

  const std::string dw = R"({"type": "conv2d", "name": "dw", "inputs": ["x"], "output": "z", )";
  CHECK(grouped_refusal(head + dw + R"("groups": 4})" + tail).find("must divide the input channels") !=
        std::string::npos);
  CHECK(grouped_refusal(head + dw + R"("groups": 6, "dilation": [1, 2, 3]})" + tail).find("'dilation' must be") !=
        std::string::npos);
  CHECK(grouped_refusal(head + dw + R"("groups": 6, "dilation": 0})" + tail).find("at least 1") != std::string::npos);
  CHECK(grouped_refusal(head + dw + R"("groups": "six"})" + tail).find("groups") != std::string::npos);
}
