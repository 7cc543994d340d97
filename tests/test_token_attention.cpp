// The fused attention over tokens: its reference cases (heads, Swin's windows, biases, masks, the
// map), and the shapes it refuses.
#include "gpu.h"

namespace ops = vkattn::ops;
using vkattn::Shape;

TEST_CASE("token attention matches softmax(scale q k^T + bias) v in float64") {
  test::check_op("token_attention",
                 {{{"B", 2}, {"heads", {3}}, {"Nq", 17}, {"Nk", 17}, {"d", 64}, {"dv", 64}},
                  {{"B", 3}, {"heads", {2}}, {"Nq", 5}, {"Nk", 13}, {"d", 7}, {"dv", 3}, {"map", true}},
                  {{"B", 2}, {"heads", {4, 3}}, {"Nq", 9}, {"Nk", 9}, {"d", 8}, {"dv", 4}, {"bias", {3, 9, 9}}},
                  {{"B", 2}, {"heads", {4, 3}}, {"Nq", 9}, {"Nk", 9}, {"d", 4}, {"dv", 12}, {"bias", {4, 1, 9, 9}},
                   {"map", true}},
                  {{"B", 3}, {"heads", {2}}, {"Nq", 6}, {"Nk", 11}, {"d", 5}, {"dv", 6}, {"bias", {1, 1, 11}},
                   {"bias_input", true}, {"mask", true}, {"map", true}},
                  {{"B", 3}, {"heads", {2}}, {"Nq", 11}, {"Nk", 11}, {"d", 8}, {"dv", 8}, {"special", "nan"}}});
}

TEST_CASE("token attention refuses shapes that do not fit together") {
  vkattn::Graph g;
  const auto q = g.input("q", {2, 3, 5, 8}), k = g.input("k", {2, 3, 7, 8}), v = g.input("v", {2, 3, 7, 4});
  CHECK(g.shape(ops::token_attention(g, q, k, v).out) == Shape{2, 3, 5, 4});
  const auto a = ops::token_attention(g, q, k, v, g.weight("b", test::random_tensor({3, 1, 7})), 0.5f, true);
  CHECK(g.shape(*a.map) == Shape{2, 3, 5, 7});
  CHECK_THROWS_WITH(ops::token_attention(g, q, g.input("k2", {2, 3, 7, 6}), v), doctest::Contains("every dimension but the rows"));
  CHECK_THROWS_WITH(ops::token_attention(g, q, k, g.input("v2", {2, 3, 6, 4})), doctest::Contains("dimensions but the last"));
  CHECK_THROWS_WITH(ops::token_attention(g, g.input("q2", {2, 8}), k, v), doctest::Contains("(B, ..., N, d)"));
  CHECK_THROWS_WITH(ops::token_attention(g, q, k, v, g.weight("b2", test::random_tensor({2, 5, 7}))),
                    doctest::Contains("does not broadcast"));
  const auto q5 = g.input("q5", {2, 2, 3, 4, 5, 8}), k5 = g.input("k5", {2, 2, 3, 4, 5, 8});
  CHECK_THROWS_WITH(ops::token_attention(g, q5, k5, k5, g.weight("b3", test::random_tensor({2, 1, 4, 1, 1}))),
                    doctest::Contains("more than two runs"));
}
