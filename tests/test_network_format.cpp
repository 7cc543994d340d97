// Network format 2, a graph of named values: a residual sum, several inputs and outputs, nodes in
// any order, and one sentence naming the file and node for each kind of broken graph. Format 1
// files go through the same build path.
#include "gpu.h"

namespace {

vkattn::HostTensor constant(vkattn::Shape s, float v) {
  return {s, std::vector<float>(vkattn::element_count(s), v)};
}

// A conv (4 -> 4, 3x3, padding 1) with fresh random weights, and the JSON around `nodes`.
vkattn::SafeTensors file(const std::string& network) {
  return test::network_file(network, {{"c.weight", test::random_tensor({4, 4, 3, 3})},
                                      {"c.bias", test::random_tensor({4})},
                                      {"scale", test::random_tensor({4, 1, 1})}});
}
std::string refusal(const std::string& network) { return test::load_error(file(network)); }

}  // namespace

TEST_CASE("a format-2 residual network gives what its ops give, nodes in any order") {
  test::NoValidationMessages quiet;
  // y = relu(conv(x)) + x, z = y * scale; listed out of order on purpose.
  const auto f = file(R"({"format": 2, "inputs": [{"name": "x", "shape": [4, 5, 7]}],
    "nodes": [{"type": "mul", "inputs": ["y"], "constant": "scale", "output": "z"},
              {"type": "add", "inputs": ["r", "x"], "output": "y"},
              {"type": "conv2d", "name": "c", "inputs": ["x"], "output": "a", "padding": 1},
              {"type": "relu", "inputs": ["a"], "output": "r"}],
    "outputs": ["z", "y"]})");
  const auto net = vkattn::Network::from_safetensors(f);
  CHECK(net.output_names() == std::vector<std::string>{"z", "y"});
  vkattn::Graph g;
  const auto out = net.build(g, g.input("x", {3, 4, 5, 7}));
  REQUIRE(out.outputs.size() == 2);
  g.output("z", out.outputs[0].second);
  g.output("y", out.outputs[1].second);

  vkattn::Graph direct;
  const auto x = direct.input("x", {3, 4, 5, 7});
  const auto a = vkattn::ops::conv2d(direct, x, direct.weight("w", f.at("c.weight")), direct.weight("b", f.at("c.bias")),
                                     {1, 1}, {1, 1});
  const auto y = vkattn::ops::binary(direct, vkattn::ops::Binary::add, vkattn::ops::relu(direct, a), x);
  direct.output("z", vkattn::ops::binary(direct, vkattn::ops::Binary::mul, y, direct.weight("s", f.at("scale"))));
  const auto input = test::random_tensor({3, 4, 5, 7});
  const auto from_file = test::run_graph(g, {{"x", input}}, "z"), from_ops = test::run_graph(direct, {{"x", input}}, "z");
  CHECK(from_file.data == from_ops.data);
}

TEST_CASE("a format-2 network with two inputs and a format-1 chain build through one path") {
  test::NoValidationMessages quiet;
  const auto two = vkattn::Network::from_safetensors(file(R"({"format": 2,
    "inputs": [{"name": "p", "shape": [4, 3, 3]}, {"name": "q", "shape": [1, 3, 1]}],
    "nodes": [{"type": "sub", "inputs": ["p", "q"], "output": "d"}], "outputs": ["d"]})"));
  vkattn::Graph g;
  const auto p = g.input("p", {2, 4, 3, 3}), q = g.input("q", {2, 1, 3, 1});
  g.output("d", two.build(g, {{"p", p}, {"q", q}}).output);
  const auto P = test::random_tensor({2, 4, 3, 3}), Q = test::random_tensor({2, 1, 3, 1});
  const auto d = test::run_graph(g, {{"p", P}, {"q", Q}}, "d");
  for (int64_t i = 0; i < 72; ++i) CHECK(d.data[i] == P.data[i] - Q.data[(i / 36) * 3 + (i / 3) % 3]);
  CHECK_THROWS_WITH_AS(two.build(g, g.input("x", {1, 4, 3, 3})), doctest::Contains("has 2 inputs"), vkattn::Error);

  const auto chain = vkattn::Network::from_safetensors(file(R"({"format": 1, "input": [4, 5, 7],
    "layers": [{"type": "conv2d", "name": "c", "padding": 1}, {"type": "mul", "scalar": 0.5}]})"));
  CHECK(chain.inputs().size() == 1);
  CHECK(chain.layers().size() == 2);
  CHECK(chain.output_names().size() == 1);
}

TEST_CASE("a broken format-2 graph is one sentence naming the file and the node") {
  const std::string head = R"({"format": 2, "inputs": [{"name": "x", "shape": [4, 5, 7]}], "nodes": [)";
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["nothing"], "output": "y"}], "outputs": ["y"]})")
            .find("'net.safetensors', node 1 (relu): it reads 'nothing', which no input or node makes") !=
        std::string::npos);
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["b"], "output": "a"}, {"type": "relu", "inputs": ["a"],
                  "output": "b"}], "outputs": ["a"]})")
            .find("part of a cycle") != std::string::npos);
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["x"], "output": "y"}, {"type": "tanh", "inputs": ["x"],
                  "output": "y"}], "outputs": ["y"]})")
            .find("node 2 (tanh): the value 'y' is made twice (also by node 1 (relu))") != std::string::npos);
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["x"], "output": "x"}], "outputs": ["x"]})")
            .find("it is also an input") != std::string::npos);
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["x"], "output": "y"}], "outputs": ["z"]})")
            .find("an output 'z', which no input or node makes") != std::string::npos);
  CHECK(refusal(head + R"({"type": "add", "inputs": ["x", "x", "x"], "output": "y"}], "outputs": ["y"]})")
            .find("node 1 (add): a add node reads 1 or 2 values, but it names 3") != std::string::npos);
  CHECK(refusal(head + R"({"type": "add", "inputs": ["x"], "output": "y"}], "outputs": ["y"]})")
            .find("it reads two values, but it is given 1") != std::string::npos);
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["x"]}], "outputs": ["x"]})").find("needs an \"output\"") !=
        std::string::npos);
  CHECK(refusal(head + R"({"type": "relu", "inputs": ["x"], "output": "y", "colour": 1}], "outputs": ["y"]})")
            .find("a key 'colour'") != std::string::npos);
  CHECK(refusal(head + R"({"type": "add", "inputs": ["x"], "constant": "nope", "output": "y"}], "outputs": ["y"]})")
            .find("no tensor called 'nope'") != std::string::npos);
  CHECK(refusal(R"({"format": 2, "inputs": [{"name": "x", "shape": [4, 0]}], "nodes": [], "outputs": []})")
            .find("not a positive whole number") != std::string::npos);
  CHECK(refusal(R"({"format": 3})").find("\"format\": 1 (a layer list) or 2") != std::string::npos);
}

TEST_CASE("a node can make several values: an attention map and crop boxes as named values") {
  test::NoValidationMessages quiet;
  vkattn::SafeTensors f;
  f.source = "glimpse.safetensors";
  f.tensors = {{"a.query_conv.weight", test::random_tensor({2, 8, 1, 1})}, {"a.query_conv.bias", test::random_tensor({2})},
               {"a.key_conv.weight", test::random_tensor({2, 8, 1, 1})}, {"a.key_conv.bias", test::random_tensor({2})},
               {"a.value_conv.weight", test::random_tensor({8, 8, 1, 1})}, {"a.value_conv.bias", test::random_tensor({8})},
               {"a.gamma", constant({1}, 0.5f)}};
  // The crop reads the map as a value (with its grid), or names the attention layer: the same crop.
  const auto with_map = [&](const std::string& crop) {
    f.metadata["vkattn.network"] = R"({"format": 2, "inputs": [{"name": "x", "shape": [8, 4, 6]}],
      "nodes": [{"type": "self_attention", "name": "a", "inputs": ["x"], "outputs": ["y", "map"]},)" + crop +
                                   R"(], "outputs": ["crop", "map", "boxes", "y"]})";
    return vkattn::Network::from_safetensors(f);
  };
  const auto by_value = with_map(R"({"type": "attention_crop", "inputs": ["x", "map"], "grid": [4, 6],
      "threshold": 0.3, "size": [3, 5], "outputs": ["crop", "boxes"]})");
  const auto by_name = with_map(R"({"type": "attention_crop", "inputs": ["x"], "attention": "a",
      "threshold": 0.3, "size": [3, 5], "outputs": ["crop", "boxes"]})");
  const auto input = test::random_tensor({2, 8, 4, 6});
  std::map<std::string, vkattn::HostTensor> results[2];
  for (int k = 0; k < 2; ++k) {
    vkattn::Graph g;
    const auto out = (k ? by_name : by_value).build(g, g.input("x", {2, 8, 4, 6}), true);
    REQUIRE(out.outputs.size() == 4);
    for (const auto& [name, id] : out.outputs) g.output(name, id);
    g.output("maps", out.attention.at(0).second);
    for (const char* name : {"crop", "map", "boxes", "maps"}) results[k][name] = test::run_graph(g, {{"x", input}}, name);
    CHECK(g.shape(out.outputs[1].second) == vkattn::Shape{2, 24, 24});
    CHECK(g.shape(out.outputs[2].second) == vkattn::Shape{2, 4});
  }
  CHECK(results[0]["map"].data == results[0]["maps"].data);
  CHECK(results[0]["crop"].data == results[1]["crop"].data);
  CHECK(results[0]["boxes"].data == results[1]["boxes"].data);

  // Refused: outputs on a one-value type, too many, a map of the wrong grid.
  f.metadata["vkattn.network"] = R"({"format": 2, "inputs": [{"name": "x", "shape": [8, 4, 6]}],
    "nodes": [{"type": "relu", "inputs": ["x"], "outputs": ["r", "s"]}], "outputs": ["r"]})";
  CHECK_THROWS_WITH_AS(vkattn::Network::from_safetensors(f), doctest::Contains("has a key 'outputs' that a relu node"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(with_map(R"({"type": "attention_crop", "inputs": ["x", "map"], "grid": [6, 4], "threshold": 0.3,
      "size": [3, 5], "outputs": ["crop", "boxes", "more"]})"), doctest::Contains("1 to 2 value names"), vkattn::Error);
  CHECK_THROWS_WITH_AS(with_map(R"({"type": "attention_crop", "inputs": ["x", "map"], "grid": [3, 4], "threshold": 0.3,
      "size": [3, 5], "outputs": ["crop", "boxes"]})"), doctest::Contains("must be (B, 12, 12) for the 3x4 grid"),
                       vkattn::Error);
}
