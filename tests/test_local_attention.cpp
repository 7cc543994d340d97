// Local self-attention (SASA): the fused kernel against its float64 reference, the layer from a
// network file with its map as a second value, and the refusals, one sentence each.
#include "gpu.h"

namespace ops = vkattn::ops;
using vkattn::HostTensor;

namespace {

// A local_self_attention node "sa" (k 3, 2 heads of 4 channels) on x (5, 6, 7), its map named "m".
const char* kNode = R"({"type": "local_self_attention", "name": "sa", "kernel_size": 3, "heads": 2,
                        "inputs": ["x"], "outputs": ["y", "m"]})";

std::map<std::string, HostTensor> weights(int64_t C = 8, int64_t Cin = 5, int64_t d = 4, int64_t K = 3) {
  return {{"sa.query.weight", test::random_tensor({C, Cin, 1, 1})}, {"sa.key.weight", test::random_tensor({C, Cin, 1, 1})},
          {"sa.value.weight", test::random_tensor({C, Cin, 1, 1})}, {"sa.rel_h", test::random_tensor({d / 2, K})},
          {"sa.rel_w", test::random_tensor({d / 2, K})}};
}

vkattn::SafeTensors file(const std::string& node, std::map<std::string, HostTensor> tensors) {
  return test::network_file(test::graph_json({5, 6, 7}, node, R"("y", "m")"), std::move(tensors));
}

}  // namespace

TEST_CASE("local_attention matches the reference: kernels 1 to 7, heads, small and non-square images, the map") {
  std::vector<vkattn::conformance::Spec> specs;
  struct Case { int64_t B, C, H, W, heads, K; bool map; };
  for (const Case& c : {Case{1, 2, 1, 1, 1, 1, true}, Case{2, 4, 3, 5, 2, 1, false}, Case{3, 8, 5, 7, 2, 3, true},
                        Case{2, 12, 6, 9, 2, 5, true}, Case{1, 16, 3, 2, 4, 7, true}, Case{2, 6, 9, 4, 1, 7, false},
                        Case{3, 24, 2, 11, 4, 3, true}, Case{1, 32, 16, 16, 4, 7, true}, Case{2, 20, 13, 1, 2, 5, true}})
    specs.push_back({{"B", c.B}, {"C", c.C}, {"H", c.H}, {"W", c.W}, {"heads", c.heads}, {"K", c.K}, {"map", c.map}});
  for (const char* kind : {"nan", "inf"})
    specs.push_back({{"B", 3}, {"C", 8}, {"H", 5}, {"W", 6}, {"heads", 2}, {"K", 3}, {"map", true}, {"special", kind}});
  test::check_op("local_attention", specs);
}

TEST_CASE("local_self_attention loads from a network file, its map a second value, and runs as its ops") {
  test::NoValidationMessages quiet;
  const auto w = weights();
  const auto net = vkattn::Network::from_safetensors(file(kNode, w));
  vkattn::Graph g;
  const auto made = net.build(g, net.add_inputs(g, 2));
  REQUIRE(made.outputs.size() == 2);
  g.output("y", made.outputs[0].second);
  g.output("m", made.outputs[1].second);
  CHECK(g.shape(made.outputs[1].second) == vkattn::Shape{2, 2, 42, 9});
  // The same from the builders: q, k and v as one stacked projection without bias.
  vkattn::Graph direct;
  HostTensor stacked{{24, 5}, {}};
  for (const char* part : {"sa.query.weight", "sa.key.weight", "sa.value.weight"})
    stacked.data.insert(stacked.data.end(), w.at(part).data.begin(), w.at(part).data.end());
  const auto qkv = ops::projection(direct, direct.input("x", {2, 5, 6, 7}), direct.weight("w", stacked),
                                   direct.weight("b", HostTensor{{24}, std::vector<float>(24, 0.f)}));
  const auto a = ops::local_attention(direct, {qkv, 0, 8}, {qkv, 8, 8}, {qkv, 16, 8}, direct.weight("h", w.at("sa.rel_h")),
                                      direct.weight("w2", w.at("sa.rel_w")), 2, 3, true);
  direct.output("y", a.y);
  direct.output("m", *a.map);
  const auto x = test::random_tensor({2, 5, 6, 7});
  CHECK(test::run_graph(g, {{"x", x}}, "y").data == test::run_graph(direct, {{"x", x}}, "y").data);
  CHECK(test::run_graph(g, {{"x", x}}, "m").data == test::run_graph(direct, {{"x", x}}, "m").data);
}

TEST_CASE("local_attention refuses kernels, heads and weights that do not fit, with a sentence") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 24, 5, 6});
  int made = 0;  // each embedding its own weight name
  const auto rel = [&](int64_t rows, int64_t K) { return g.weight(std::to_string(++made), test::random_tensor({rows, K})); };
  const auto build = [&](int64_t C, int64_t heads, int64_t K, int64_t rows, int64_t rel_k) {
    return ops::local_attention(g, {x, 0, C}, {x, C, C}, {x, 2 * C, C}, rel(rows, rel_k), rel(rows, K), heads, K);
  };
  CHECK(g.shape(build(8, 2, 9, 2, 9).y) == vkattn::Shape{2, 8, 5, 6});  // a kernel larger than the image is fine
  CHECK_THROWS_WITH_AS(build(8, 2, 4, 2, 4), doctest::Contains("kernel size must be odd"), vkattn::Error);
  CHECK_THROWS_WITH_AS(build(8, 3, 3, 2, 3), doctest::Contains("3 heads do not divide its 8 channels"), vkattn::Error);
  CHECK_THROWS_WITH_AS(build(6, 2, 3, 2, 3), doctest::Contains("each head's 3 channels must be even"), vkattn::Error);
  CHECK_THROWS_WITH_AS(build(8, 2, 3, 2, 5), doctest::Contains("rel_h must be (2, 3)"), vkattn::Error);
  CHECK_THROWS_WITH_AS(build(8, 1, 3, 2, 3), doctest::Contains("rel_h must be (4, 3)"), vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::local_attention(g, {x, 0, 8}, {x, 20, 8}, {x, 8, 8}, rel(2, 3), rel(2, 3), 2, 3),
                       doctest::Contains("the key must be 8 channels inside"), vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::local_attention(g, {x, 0, 8}, {g.input("k", {2, 8, 5, 5}), 0, 8}, {x, 8, 8}, rel(2, 3),
                                            rel(2, 3), 2, 3),
                       doctest::Contains("must have the query's batch and image size"), vkattn::Error);

  const auto refusal = [](const std::string& node, std::map<std::string, HostTensor> w) {
    return test::load_error(file(node, std::move(w)));
  };
  auto w = weights();
  CHECK(refusal(R"({"type": "local_self_attention", "name": "sa", "heads": 2, "inputs": ["x"], "outputs": ["y", "m"]})", w)
            .find("needs a \"kernel_size\"") != std::string::npos);
  std::string even = kNode;
  even.replace(even.find("\"kernel_size\": 3"), 16, "\"kernel_size\": 4");
  CHECK(refusal(even, weights(8, 5, 4, 4)).find("kernel size must be odd") != std::string::npos);
  w["sa.key.weight"] = test::random_tensor({8, 4, 1, 1});
  CHECK(refusal(kNode, w).find("'sa.key.weight' must have the shape of 'sa.query.weight'") != std::string::npos);
  w = weights();
  w["sa.rel_w"] = test::random_tensor({2, 5});
  CHECK(refusal(kNode, w).find("'sa.rel_w' must be (2, 3)") != std::string::npos);
  w = weights(8, 4);  // weights for 4 input channels, the input has 5
  CHECK(refusal(kNode, w).find("needs a (B, 4, H, W) input") != std::string::npos);
}
