// Eval-mode batch norm on (B, C), (B, C, L), (B, C, H, W) and (B, C, D, H, W), and as a layer.
#include <cmath>

#include "gpu.h"

namespace {

vkattn::SafeTensors file(const std::string& network, int64_t C, bool affine) {
  vkattn::SafeTensors f;
  f.source = "net.safetensors";
  f.metadata["vkattn.network"] = network;
  f.tensors = {{"bn.running_mean", test::random_tensor({C})}, {"bn.running_var", test::random_tensor({C}, 0.1f, 2.f)}};
  if (affine) {
    f.tensors["bn.weight"] = test::random_tensor({C}, -2.f, 2.f);
    f.tensors["bn.bias"] = test::random_tensor({C});
  }
  return f;
}

std::string refusal(const vkattn::SafeTensors& f) { return test::load_error(f); }

const std::string kNet = R"({"format": 2, "inputs": [{"name": "x", "shape": [6, 5, 3]}],
  "nodes": [{"type": "batch_norm", "name": "bn", "inputs": ["x"], "output": "y", "eps": 0.001}], "outputs": ["y"]})";

}  // namespace

TEST_CASE("batch_norm matches the reference, affine or not") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const char* affine : {"both", "weight", "none"})
    for (const vkattn::Shape& s : {vkattn::Shape{3, 1}, {4, 7}, {3, 5, 13}, {2, 6, 7, 11}, {2, 16, 28, 28}, {2, 3, 4, 5, 7}})
      specs.push_back({{"shape", s}, {"affine", affine}});
  specs.push_back({{"shape", {3, 12, 5, 5}}, {"eps", 1e-3}, {"zero_var", true}});
  specs.push_back({{"shape", {2, 5, 7, 3}}, {"special", "nan"}});
  specs.push_back({{"shape", {2, 5, 7, 3}}, {"special", "inf"}});
  test::check_op("batch_norm", specs);
}

TEST_CASE("a format-2 batch_norm layer gives what the builder gives, with and without affine weights") {
  test::NoValidationMessages quiet;
  for (const bool affine : {true, false}) {
    const auto f = file(kNet, 6, affine);
    const auto net = vkattn::Network::from_safetensors(f);
    vkattn::Graph g;
    g.output("y", net.build(g, g.input("x", {2, 6, 5, 3})).output);
    vkattn::Graph direct;
    std::optional<vkattn::HostTensor> weight, bias;
    if (affine) weight = f.at("bn.weight"), bias = f.at("bn.bias");
    direct.output("y", vkattn::ops::batch_norm(direct, direct.input("x", {2, 6, 5, 3}), f.at("bn.running_mean"),
                                               f.at("bn.running_var"), weight, bias, double(0.001f)));
    const auto input = test::random_tensor({2, 6, 5, 3});
    const auto y = test::run_graph(g, {{"x", input}}, "y");
    CHECK(y.data == test::run_graph(direct, {{"x", input}}, "y").data);
    // And against the definition, element 0 of each channel of item 0.
    for (int64_t c = 0; c < 6; ++c) {
      const double w = affine ? f.at("bn.weight").data[c] : 1.0, b = affine ? f.at("bn.bias").data[c] : 0.0;
      const double ref = (input.data[c * 15] - f.at("bn.running_mean").data[c]) /
                             std::sqrt(f.at("bn.running_var").data[c] + double(0.001f)) * w + b;
      CHECK(y.data[c * 15] == doctest::Approx(ref).epsilon(1e-5));
    }
  }
}

TEST_CASE("a batch_norm layer with a bad key value or weight is one sentence") {
  auto f = file(kNet, 6, true);
  const std::string bad_eps = R"({"format": 2, "inputs": [{"name": "x", "shape": [6]}],
    "nodes": [{"type": "batch_norm", "name": "bn", "inputs": ["x"], "output": "y", "eps": "small"}], "outputs": ["y"]})";
  CHECK(refusal(file(bad_eps, 6, true)).find("node 1 (batch_norm 'bn'): its \"eps\" must be a number") != std::string::npos);
  f.tensors["bn.bias"] = test::random_tensor({5});
  CHECK(refusal(f).find("batch_norm: bias must be (6,) like running_mean, but it is (5,).") != std::string::npos);
  f.tensors.erase("bn.running_var");
  CHECK(refusal(f).find("no tensor called 'bn.running_var'") != std::string::npos);
  // The input's channels must match the statistics'.
  const std::string four = R"({"format": 2, "inputs": [{"name": "x", "shape": [4, 5]}],
    "nodes": [{"type": "batch_norm", "name": "bn", "inputs": ["x"], "output": "y"}], "outputs": ["y"]})";
  CHECK(refusal(file(four, 6, false)).find("batch_norm: the input must be (B, 6, ...) for statistics of 6 channels") !=
        std::string::npos);
}
