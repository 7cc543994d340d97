// linear, the classifier's head.
#include "gpu.h"

TEST_CASE("linear matches the reference for batch and feature counts with remainders") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t B : {1, 3, 65})
    for (int64_t F : {1, 100, 3136})
      for (int64_t M : {1, 10, 257}) specs.push_back({{"B", B}, {"F", F}, {"M", M}});
  test::check_op("linear", specs);
  test::check_op("linear", {{{"B", 2}, {"N", 197}, {"F", 64}, {"M", 130}}, {{"B", 3}, {"N", 7}, {"F", 5}, {"M", 3}}});
}

TEST_CASE("linear runs over the last dimension and rejects a weight that does not fit") {
  vkattn::Graph g;
  const auto tokens = vkattn::ops::linear(g, g.input("t", {2, 3, 4, 48}), g.weight("w0", test::random_tensor({5, 48})),
                                          g.weight("b0", test::random_tensor({5})));
  CHECK(g.shape(tokens) == vkattn::Shape{2, 3, 4, 5});
  CHECK_THROWS_WITH_AS(vkattn::ops::linear(g, g.input("x", {2, 3, 4, 4}), g.weight("w", test::random_tensor({5, 48})),
                                           g.weight("b", test::random_tensor({5}))),
                       doctest::Contains("last dimension"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::linear(g, g.input("y", {2, 47}), g.weight("w2", test::random_tensor({5, 48})),
                                           g.weight("b2", test::random_tensor({5}))),
                       doctest::Contains("input features"), vkattn::Error);
}
