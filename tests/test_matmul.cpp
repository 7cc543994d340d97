// matmul (torch.matmul with the batch first): attention's products, broadcast leading dims,
// constant weights, and as a layer.
#include "gpu.h"

TEST_CASE("matmul matches the reference for sizes that leave part of a tile and K not a multiple of 4") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t B : {1, 3})
    for (int64_t M : {1, 7, 65})
      for (int64_t K : {1, 3, 17, 130})
        for (int64_t N : {1, 5, 66}) specs.push_back({{"a", {B, M, K}}, {"b", {B, K, N}}});
  test::check_op("matmul", specs);
}

TEST_CASE("matmul broadcasts the leading dims as PyTorch does") {
  test::check_op("matmul", {
                               {{"a", {2, 3, 197, 64}}, {"b", {2, 3, 64, 197}}},
                               {{"a", {1, 2, 6, 5}}, {"b", {3, 2, 5, 7}}},
                               {{"a", {3, 2, 6, 5}}, {"b", {1, 2, 5, 7}}},
                               {{"a", {3, 1, 6, 5}}, {"b", {3, 4, 5, 7}}},
                               {{"a", {3, 2, 1, 5, 3}}, {"b", {3, 1, 4, 3, 6}}},
                               {{"a", {2, 3, 5, 7}}, {"b", {3, 7, 2}}, {"constant", "b"}},
                               {{"a", {2, 3, 5, 7}}, {"b", {7, 2}}, {"constant", "b"}},
                               {{"a", {2, 3, 5, 7}}, {"b", {1, 1, 7, 2}}, {"constant", "b"}},
                               {{"a", {6, 10}}, {"b", {3, 10, 4}}, {"constant", "a"}},
                               {{"a", {4, 6, 10}}, {"b", {3, 1, 10, 4}}, {"constant", "a"}},
                           });
}

TEST_CASE("matmul of a ViT's sizes, and with NaN and inf") {
  test::check_op("matmul", {
                               {{"a", {1, 197, 768}}, {"b", {768, 2304}}, {"constant", "b"}},
                               {{"a", {1, 197, 768}}, {"b", {1, 768, 2304}}},
                               {{"a", {3, 9, 50}}, {"b", {3, 50, 13}}, {"special", "nan"}},
                               {{"a", {3, 9, 50}}, {"b", {3, 50, 13}}, {"special", "inf"}},
                               {{"a", {3, 9, 50}}, {"b", {50, 13}}, {"constant", "b"}, {"special", "inf"}},
                           });
}

TEST_CASE("a matmul layer reads two values, or one and a constant") {
  test::NoValidationMessages quiet;
  namespace ops = vkattn::ops;
  const auto w = test::random_tensor({6, 4});
  const auto input = test::random_tensor({2, 6, 6});
  const std::string nodes = R"({"type": "matmul", "inputs": ["x", "x"], "output": "s"},
    {"type": "matmul", "inputs": ["s"], "constant": "w", "output": "t"},
    {"type": "matmul", "inputs": ["t"], "constant": "w2", "constant_first": true, "output": "y"})";
  const auto w2 = test::random_tensor({3, 6});
  const auto net = vkattn::Network::from_safetensors(test::network_file(test::graph_json({6, 6}, nodes),
                                                                          {{"w", w}, {"w2", w2}}));
  vkattn::Graph g;
  g.output("y", net.build(g, g.input("x", {2, 6, 6})).output);
  vkattn::Graph direct;
  const auto x = direct.input("x", {2, 6, 6});
  const auto s = ops::matmul(direct, x, x);
  const auto t = ops::matmul(direct, s, direct.weight("w", w));
  direct.output("y", ops::matmul(direct, direct.weight("w2", w2), t));
  CHECK(test::run_graph(g, {{"x", input}}, "y").data == test::run_graph(direct, {{"x", input}}, "y").data);
}

TEST_CASE("matmul refuses vectors, K mismatches, shapes that do not broadcast and a batch that would not line up") {
  vkattn::Graph g;
  namespace ops = vkattn::ops;
  const auto a = g.input("a", {2, 3, 5, 7});
  CHECK_THROWS_WITH_AS(ops::matmul(g, a, g.weight("v", test::random_tensor({7}))),
                       doctest::Contains("matmul: operands (2, 3, 5, 7) and (7,): one-dimensional operands are not supported"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::matmul(g, a, g.input("b", {2, 3, 6, 4})),
                       doctest::Contains("a has 7 columns but b has 6 rows; they must be equal."), vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::matmul(g, a, g.input("c", {2, 4, 7, 4})),
                       doctest::Contains("matmul: operands (2, 3, 5, 7) and (2, 4, 7, 4) do not broadcast (dimension 1: 3 and 4)."),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::matmul(g, a, g.input("d", {2, 7, 4})), doctest::Contains("its batch would not line up"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(ops::matmul(g, g.weight("e", test::random_tensor({5, 7})), g.weight("f", test::random_tensor({7, 4}))),
                       doctest::Contains("one of them must have a batch before its matrix"), vkattn::Error);
}
