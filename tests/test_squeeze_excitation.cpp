// squeeze_excitation on odd sizes, wide channel counts and a squeeze wider than C; shapes that do
// not fit are refused with a sentence.
#include "gpu.h"
#include "vkattn/network.h"

TEST_CASE("squeeze_excitation matches the reference") {
  test::check_op("squeeze_excitation", {{{"B", 1}, {"C", 1}, {"S", 1}, {"H", 1}, {"W", 1}},
                                        {{"B", 3}, {"C", 67}, {"S", 5}, {"H", 7}, {"W", 3}},
                                        {{"B", 2}, {"C", 12}, {"S", 100}, {"H", 17}, {"W", 17}}});
}

TEST_CASE("squeeze_excitation refuses weights that do not fit") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 8, 4, 4});
  const auto w = [&](const char* name, vkattn::Shape s) {
    return g.weight(name, vkattn::HostTensor{s, std::vector<float>(vkattn::element_count(s), 0.1f)});
  };
  CHECK_THROWS_WITH_AS(vkattn::ops::squeeze_excitation(g, x, w("a", {2, 7}), w("b", {2}), w("c", {8, 2}), w("d", {8})),
                       doctest::Contains("fc1's weight must be (S, 8)"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::squeeze_excitation(g, x, w("e", {2, 8}), w("f", {2}), w("g", {8, 3}), w("h", {8})),
                       doctest::Contains("fc2's weight must be (8, 2)"), vkattn::Error);
}

TEST_CASE("a squeeze_excitation layer with missing or mismatched weights names the layer") {
  const auto t = [](vkattn::Shape s) { return vkattn::HostTensor{s, std::vector<float>(vkattn::element_count(s), 0.1f)}; };
  vkattn::SafeTensors f;
  f.source = "se.safetensors";
  f.metadata["vkattn.network"] =
      R"({"format": 1, "input": [4, 6, 6], "layers": [{"type": "squeeze_excitation", "name": "se"}]})";
  CHECK_THROWS_WITH_AS(vkattn::Network::from_safetensors(f), doctest::Contains("layer 1 (squeeze_excitation 'se')"),
                       vkattn::Error);
  f.tensors = {{"se.fc1.weight", t({2, 4, 1, 1})}, {"se.fc1.bias", t({2})}, {"se.fc2.weight", t({4, 3, 1, 1})},
               {"se.fc2.bias", t({4})}};
  bool refused = false;
  try {
    const auto net = vkattn::Network::from_safetensors(f);
    vkattn::Graph g;
    net.build(g, g.input("x", {1, 4, 6, 6}));
  } catch (const vkattn::Error& e) {
    refused = true;
    CHECK(std::string(e.what()).find("fc2's weight must be (4, 2)") != std::string::npos);
  }
  CHECK(refused);
}
