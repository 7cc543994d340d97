// Row softmax and log_softmax: numerically stable for any row length, including rows longer than a workgroup,
// and over any dimension after the batch.
#include "gpu.h"

TEST_CASE("softmax matches the reference for row lengths from 1 to 16384") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t L : {1, 2, 7, 255, 256, 257, 1000, 4097, 16384})
    for (int64_t rows : {1, 3, 37})
      for (int64_t B : {1, 2}) specs.push_back({{"B", B}, {"rows", rows}, {"L", L}});
  test::check_op("softmax", specs);
}

TEST_CASE("softmax of a 1-D tensor is one row") { test::check_op("softmax", {{{"shape", {300}}}}); }

TEST_CASE("log_softmax matches the reference where softmax underflows") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t L : {1, 2, 10, 255, 257, 4097})
    for (int64_t rows : {1, 7}) specs.push_back({{"B", 2}, {"rows", rows}, {"L", L}});
  test::check_op("log_softmax", specs);
}

TEST_CASE("softmax and log_softmax over other dimensions than the last") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t dim : {1, 2, 3, -2, -3}) specs.push_back({{"shape", {2, 5, 7, 3}}, {"dim", dim}});
  specs.push_back({{"shape", {2, 300, 3, 3}}, {"dim", 1}});  // rows longer than a workgroup
  specs.push_back({{"shape", {3, 10, 9}}, {"dim", 1}});
  specs.push_back({{"shape", {2, 7, 1, 1}}, {"dim", 1}});    // contiguous rows after all
  specs.push_back({{"shape", {1, 4, 100}}, {"dim", 1}});     // more rows than a workgroup's invocations
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"shape", {2, 6, 5, 4}}, {"dim", 1}, {"special", kind}});
    specs.push_back({{"shape", {3, 11, 7}}, {"dim", 1}, {"special", kind}});
  }
  test::check_op("softmax", specs);
  test::check_op("log_softmax", specs);
}

namespace {

vkattn::SafeTensors net_file(const std::string& network) { return test::network_file(network); }

}  // namespace

TEST_CASE("a format-2 network's softmax and log_softmax take a dim") {
  test::NoValidationMessages quiet;
  const auto net = vkattn::Network::from_safetensors(net_file(R"({"format": 2, "inputs": [{"name": "x", "shape": [4, 3, 5]}],
    "nodes": [{"type": "softmax", "inputs": ["x"], "output": "a", "dim": 1},
              {"type": "log_softmax", "inputs": ["a"], "output": "b", "dim": -2},
              {"type": "softmax", "inputs": ["b"], "output": "c"}],
    "outputs": ["c"]})"));
  vkattn::Graph g;
  g.output("c", net.build(g, g.input("x", {2, 4, 3, 5})).output);
  vkattn::Graph direct;
  namespace ops = vkattn::ops;
  const auto x = direct.input("x", {2, 4, 3, 5});
  direct.output("c", ops::softmax(direct, ops::log_softmax(direct, ops::softmax(direct, x, 1), 2)));
  const auto input = test::random_tensor({2, 4, 3, 5}, -5.f, 5.f);
  CHECK(test::run_graph(g, {{"x", input}}, "c").data == test::run_graph(direct, {{"x", input}}, "c").data);
}

TEST_CASE("softmax refuses the batch dim and dims outside the input, in one sentence") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 4, 3});
  CHECK_THROWS_WITH_AS(vkattn::ops::softmax(g, x, 0), doctest::Contains("dim 0 is the batch"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::log_softmax(g, x, -3), doctest::Contains("dim -3 is the batch"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::softmax(g, x, 3), doctest::Contains("dim 3 is outside an input of 3 dimensions"),
                       vkattn::Error);
  const std::string head = R"({"format": 2, "inputs": [{"name": "x", "shape": [4, 3]}], "nodes": [)";
  CHECK_THROWS_WITH_AS(vkattn::Network::from_safetensors(net_file(
                           head + R"({"type": "softmax", "inputs": ["x"], "output": "y", "dim": 1.5}], "outputs": ["y"]})")),
                       doctest::Contains("node 1 (softmax): its \"dim\" must be a whole number"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::Network::from_safetensors(net_file(
                           head + R"({"type": "softmax", "inputs": ["x"], "output": "y", "dim": 0}], "outputs": ["y"]})")),
                       doctest::Contains("node 1 (softmax): softmax: dim 0 is the batch"), vkattn::Error);
}
