// interpolate (nearest and bilinear) against the double-precision reference at PyTorch's source
// positions; the layer from a network file, and its refusals.
#include "gpu.h"

namespace {

vkattn::SafeTensors file(const std::string& nodes) { return test::network_file(test::graph_json({3, 5, 7}, nodes)); }
vkattn::Network network(const std::string& nodes) { return vkattn::Network::from_safetensors(file(nodes)); }
std::string refusal(const std::string& nodes) { return test::load_error(file(nodes)); }

}  // namespace

TEST_CASE("interpolate matches the reference, nearest and bilinear, up and down") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const char* mode : {"nearest", "bilinear"})
    for (int align : {0, 1}) {
      if (align && mode[0] == 'n') continue;
      for (const auto& [in, size] : std::vector<std::pair<vkattn::Shape, vkattn::Shape>>{
               {{2, 3, 7, 13}, {14, 26}}, {{1, 5, 5, 7}, {8, 11}}, {{3, 2, 13, 17}, {6, 7}}, {{2, 1, 1, 1}, {3, 4}},
               {{1, 16, 28, 28}, {56, 56}}}) {
        vkattn::conformance::Spec s{{"mode", mode}, {"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"size", size}};
        if (align) s["align"] = 1;
        specs.push_back(s);
      }
      specs.push_back({{"mode", mode}, {"B", 2}, {"C", 3}, {"H", 5}, {"W", 7}, {"size", {8, 17}}, {"scale", {1.7, 2.5}}});
    }
  test::check_op("interpolate", specs);
}

TEST_CASE("interpolate layers load from a network file and run as the op") {
  test::NoValidationMessages quiet;
  const auto net = network(R"({"type": "interpolate", "inputs": ["x"], "output": "u", "mode": "bilinear",
                                "scale": 2.5, "align_corners": false},
                              {"type": "interpolate", "inputs": ["u"], "output": "y", "size": [4, 9]})");
  vkattn::Graph g;
  g.output("y", net.build(g, net.add_inputs(g, 2)).output);
  vkattn::Graph direct;
  const auto u = vkattn::ops::interpolate(direct, direct.input("x", {2, 3, 5, 7}), vkattn::ops::Interpolation::bilinear,
                                          {12, 17}, vkattn::ops::Scale2{2.5, 2.5});
  direct.output("y", vkattn::ops::interpolate(direct, u, vkattn::ops::Interpolation::nearest, {4, 9}));
  const auto input = test::random_tensor({2, 3, 5, 7});
  const auto from_file = test::run_graph(g, {{"x", input}}, "y"), from_ops = test::run_graph(direct, {{"x", input}}, "y");
  CHECK(from_file.shape == vkattn::Shape{2, 3, 4, 9});
  CHECK(from_file.data == from_ops.data);
}

TEST_CASE("interpolate refuses bad keys and inputs with a sentence") {
  const std::string head = R"({"type": "interpolate", "inputs": ["x"], "output": "y", )";
  CHECK(refusal(head + R"("size": 4, "align_corners": false})").find("\"align_corners\" goes with mode \"bilinear\"") !=
        std::string::npos);
  CHECK(refusal(head + R"("size": 4, "mode": "bicubic"})").find("\"mode\" must be \"nearest\" or \"bilinear\"") !=
        std::string::npos);
  CHECK(refusal(head + R"("mode": "bilinear"})").find("needs a \"size\" or a \"scale\"") != std::string::npos);
  CHECK(refusal(head + R"("scale": -2})").find("\"scale\" must be [h, w] or one positive number") != std::string::npos);
  CHECK(refusal(head + R"("scale": 0.1})").find("from 1 to 65536") != std::string::npos);  // 5 x 0.1: no rows
  CHECK(refusal(head + R"("size": [0, 3]})").find("from 1 to 65536") != std::string::npos);
  vkattn::Graph g;
  const auto x = g.input("x", {1, 2, 3, 3});
  CHECK_THROWS_WITH_AS(vkattn::ops::interpolate(g, x, vkattn::ops::Interpolation::nearest, {6, 6}, std::nullopt, true),
                       doctest::Contains("align_corners goes with mode bilinear only"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::interpolate(g, g.input("flat", {2, 8}), vkattn::ops::Interpolation::bilinear, {4, 4}),
                       doctest::Contains("interpolate: the input must be (B, C, H, W)"), vkattn::Error);
}
