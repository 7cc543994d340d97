// Layer norm over the last dims (ViT, ConvNeXt's channels-last form) and over the channels
// (ConvNeXt's LayerNorm2d), and as a layer.
#include <functional>

#include "gpu.h"

TEST_CASE("layer_norm matches the reference for rows of 1 to 1000, affine or not") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const char* affine : {"both", "weight", "none"})
    for (int64_t L : {1, 3, 64, 127, 128, 768, 1000})
      for (int64_t B : {1, 3}) specs.push_back({{"x", {B, 5, L}}, {"dims", 1}, {"affine", affine}});
  specs.push_back({{"x", {2, 3, 4, 5, 6}}, {"dims", 3}});
  specs.push_back({{"x", {2, 197, 768}}, {"dims", 1}, {"eps", 1e-6}});
  test::check_op("layer_norm", specs);
}

TEST_CASE("layer_norm channels-first matches the reference, few positions and many") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const vkattn::Shape& s : {vkattn::Shape{3, 1}, {3, 10}, {1, 3, 5}, {2, 96, 7, 9}, {1, 768, 7, 7}, {3, 130, 2, 2}})
    specs.push_back({{"x", s}, {"dims", 0}});
  specs.push_back({{"x", {1, 4, 3, 5, 2}}, {"dims", 0}, {"affine", "none"}});
  test::check_op("layer_norm", specs);
}

TEST_CASE("layer_norm keeps its precision on rows far from 0, and makes rows with NaN or inf NaN") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t L : {3, 50, 768})
    specs.push_back({{"x", {2, 7, L}}, {"dims", 1}, {"offset", 100.0}, {"spread", 0.01}});
  specs.push_back({{"x", {2, 64, 3, 3}}, {"dims", 0}, {"offset", -100.0}, {"spread", 0.01}});
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"x", {3, 9, 50}}, {"dims", 1}, {"special", kind}});
    specs.push_back({{"x", {2, 6, 300}}, {"dims", 1}, {"special", kind}});
    specs.push_back({{"x", {2, 16, 5, 5}}, {"dims", 0}, {"special", kind}});
  }
  test::check_op("layer_norm", specs);
}

TEST_CASE("a layer_norm layer reads its weights where the file has them") {
  test::NoValidationMessages quiet;
  namespace ops = vkattn::ops;
  const auto w = test::random_tensor({4, 5}), b = test::random_tensor({4, 5});
  const auto wc = test::random_tensor({3});
  const auto input = test::random_tensor({2, 3, 4, 5});
  struct Case {
    std::string node;
    std::map<std::string, vkattn::HostTensor> tensors;
    std::function<vkattn::TensorId(vkattn::Graph&, vkattn::TensorId)> direct;
  };
  const std::vector<Case> cases = {
      {R"({"type": "layer_norm", "name": "ln", "dims": 2, "eps": 1e-6, "inputs": ["x"], "output": "y"})",
       {{"ln.weight", w}, {"ln.bias", b}},
       [&](vkattn::Graph& g, vkattn::TensorId x) {
         return ops::layer_norm(g, x, 2, g.weight("w", w), g.weight("b", b), 1e-6f);
       }},
      {R"({"type": "layer_norm", "inputs": ["x"], "output": "y"})", {},
       [](vkattn::Graph& g, vkattn::TensorId x) { return ops::layer_norm(g, x, 1, std::nullopt, std::nullopt); }},
      {R"({"type": "layer_norm", "name": "ln", "channels_first": true, "inputs": ["x"], "output": "y"})",
       {{"ln.weight", wc}},
       [&](vkattn::Graph& g, vkattn::TensorId x) {
         return ops::layer_norm_channels(g, x, g.weight("w", wc), std::nullopt);
       }},
  };
  for (const Case& c : cases) {
    const auto net = vkattn::Network::from_safetensors(test::network_file(test::graph_json({3, 4, 5}, c.node), c.tensors));
    vkattn::Graph g;
    g.output("y", net.build(g, g.input("x", {2, 3, 4, 5})).output);
    vkattn::Graph direct;
    direct.output("y", c.direct(direct, direct.input("x", {2, 3, 4, 5})));
    CHECK(test::run_graph(g, {{"x", input}}, "y").data == test::run_graph(direct, {{"x", input}}, "y").data);
  }
}

TEST_CASE("layer_norm refuses a weight of the wrong shape and dims that cover the batch, in one sentence") {
  vkattn::Graph g;
  namespace ops = vkattn::ops;
  const auto x = g.input("x", {2, 4, 6});
  CHECK_THROWS_WITH_AS(ops::layer_norm(g, x, 1, g.weight("w", test::random_tensor({4})), std::nullopt),
                       doctest::Contains("layer_norm: the weight must be (6,), the normalised shape of the input (2, 4, 6), but it is (4,)."),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::layer_norm(g, x, 2, std::nullopt, g.weight("b", test::random_tensor({6}))),
                       doctest::Contains("the bias must be (4, 6)"), vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::layer_norm_channels(g, x, g.weight("wc", test::random_tensor({6})), std::nullopt),
                       doctest::Contains("the weight must be (4,)"), vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::layer_norm(g, x, 3, std::nullopt, std::nullopt),
                       doctest::Contains("over its last 3 dimensions would cover the batch; give from 1 to 2."),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::layer_norm(g, x, 0, std::nullopt, std::nullopt), doctest::Contains("give at least 1"),
                       vkattn::Error);
  CHECK(test::load_error(test::network_file(test::graph_json(
                            {4, 6}, R"({"type": "layer_norm", "channels_first": true, "dims": 1, "inputs": ["x"], "output": "y"})")))
            .find("\"dims\" goes with the last-dims form, not with \"channels_first\".") != std::string::npos);
}
