// clamp, hardswish, hardsigmoid, silu, gelu and elu on any shape, and as layers of a network file.
#include "gpu.h"

namespace {

using Specs = std::vector<vkattn::conformance::Spec>;

// Each option set on a scalar per item, a shape that is not whole vec4s, one that is, and NaN.
Specs cases(const vkattn::conformance::Spec& options) {
  Specs specs = {{{"shape", {1}}, {"range", 4}}, {{"shape", {3, 7, 13}}}, {{"shape", {2, 16, 28, 28}}, {"range", 100}},
                 {{"shape", {2, 5, 9}}, {"special", "nan"}}, {{"shape", {2, 5, 8}}, {"special", "inf"}}};
  for (auto& s : specs)
    for (const auto& [k, v] : options.items()) s[k] = v;
  return specs;
}

vkattn::SafeTensors file(const std::string& network) { return test::network_file(network); }
std::string refusal(const std::string& network) { return test::load_error(file(network)); }

}  // namespace

TEST_CASE("clamp matches torch.clamp, one bound or both, min above max too") {
  for (const auto& o : Specs{{{"min", -1}, {"max", 1}}, {{"min", 0}, {"max", 6}}, {{"min", 0.5}}, {{"max", -0.25}},
                             {{"min", 2}, {"max", -1}}})
    test::check_op("clamp", cases(o));
}

TEST_CASE("hardswish, hardsigmoid and silu match the reference") {
  for (const char* op : {"hardswish", "hardsigmoid", "silu"}) test::check_op(op, cases(vkattn::conformance::Spec::object()));
}

TEST_CASE("gelu matches the reference in its erf and tanh forms") {
  test::check_op("gelu", cases({{"approximate", "none"}}));
  test::check_op("gelu", cases({{"approximate", "tanh"}}));
}

TEST_CASE("elu matches the reference") {
  test::check_op("elu", cases({{"alpha", 1.0}}));
  test::check_op("elu", cases({{"alpha", 0.3}}));
}

TEST_CASE("the builders refuse what PyTorch would not take") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 4});
  CHECK_THROWS_WITH_AS(vkattn::ops::clamp(g, x, std::nullopt, std::nullopt), doctest::Contains("a min, a max or both"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::clamp(g, x, NAN, 1.f), doctest::Contains("NaN"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::elu(g, x, INFINITY), doctest::Contains("finite"), vkattn::Error);
}

TEST_CASE("a format-2 network of the activations gives what its ops give") {
  test::NoValidationMessages quiet;
  const auto net = vkattn::Network::from_safetensors(file(R"({"format": 2, "inputs": [{"name": "x", "shape": [3, 5, 7]}],
    "nodes": [{"type": "clamp", "inputs": ["x"], "output": "a", "min": 0, "max": 6},
              {"type": "clamp", "inputs": ["x"], "output": "b", "max": 0.5},
              {"type": "hardswish", "inputs": ["a"], "output": "c"},
              {"type": "hardsigmoid", "inputs": ["b"], "output": "d"},
              {"type": "silu", "inputs": ["c"], "output": "e"},
              {"type": "gelu", "inputs": ["d"], "output": "f"},
              {"type": "gelu", "inputs": ["e"], "output": "g", "approximate": "tanh"},
              {"type": "elu", "inputs": ["f"], "output": "h"},
              {"type": "elu", "inputs": ["g"], "output": "i", "alpha": 0.5}],
    "outputs": ["h", "i"]})"));
  vkattn::Graph g;
  const auto out = net.build(g, g.input("x", {2, 3, 5, 7}));
  g.output("h", out.outputs[0].second);
  g.output("i", out.outputs[1].second);

  namespace ops = vkattn::ops;
  vkattn::Graph direct;
  const auto x = direct.input("x", {2, 3, 5, 7});
  const auto a = ops::clamp(direct, x, 0.f, 6.f), b = ops::clamp(direct, x, std::nullopt, 0.5f);
  direct.output("h", ops::elu(direct, ops::gelu(direct, ops::hardsigmoid(direct, b))));
  direct.output("i", ops::elu(direct, ops::gelu(direct, ops::silu(direct, ops::hardswish(direct, a)), true), 0.5f));
  const auto input = test::random_tensor({2, 3, 5, 7}, -8.f, 8.f);
  for (const char* name : {"h", "i"})
    CHECK(test::run_graph(g, {{"x", input}}, name).data == test::run_graph(direct, {{"x", input}}, name).data);
}

TEST_CASE("an activation layer with a bad key value is one sentence") {
  const std::string head = R"({"format": 2, "inputs": [{"name": "x", "shape": [4]}], "nodes": [)";
  const std::string tail = R"(], "outputs": ["y"]})";
  CHECK(refusal(head + R"({"type": "gelu", "inputs": ["x"], "output": "y", "approximate": "fast"})" + tail)
            .find("node 1 (gelu): its \"approximate\" must be \"none\" or \"tanh\", but it is \"fast\".") !=
        std::string::npos);
  CHECK(refusal(head + R"({"type": "clamp", "inputs": ["x"], "output": "y"})" + tail)
            .find("node 1 (clamp): it needs a \"min\", a \"max\" or both.") != std::string::npos);
  CHECK(refusal(head + R"({"type": "clamp", "inputs": ["x"], "output": "y", "min": "low"})" + tail)
            .find("its \"min\" must be a number") != std::string::npos);
  CHECK(refusal(head + R"({"type": "elu", "inputs": ["x"], "output": "y", "alpha": true})" + tail)
            .find("its \"alpha\" must be a number") != std::string::npos);
  CHECK(refusal(head + R"({"type": "silu", "inputs": ["x"], "output": "y", "alpha": 1})" + tail)
            .find("a key 'alpha'") != std::string::npos);
}
