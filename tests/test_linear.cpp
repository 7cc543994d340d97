// relu, flatten and linear: the classifier's head, each against the reference.
#include "gpu.h"

TEST_CASE("relu matches the reference") {
  test::NoValidationMessages guard;
  for (const vkattn::Shape& shape : {vkattn::Shape{1}, vkattn::Shape{3, 7, 13}, vkattn::Shape{2, 16, 28, 28}}) {
    CAPTURE(vkattn::to_string(shape));
    const auto x = test::random_tensor(shape);
    vkattn::Graph g;
    g.output("y", vkattn::ops::relu(g, g.input("x", shape)));
    const auto y = test::run_graph(g, {{"x", x}}, "y");
    CHECK(y.shape == shape);
    test::check_close(y.data, vkattn::reference::relu(test::widen(x.data)));
  }
}

TEST_CASE("flatten keeps the data in order and gives (B, rest)") {
  test::NoValidationMessages guard;
  for (const vkattn::Shape& shape : {vkattn::Shape{1, 1, 1, 1}, vkattn::Shape{3, 5, 7, 13}, vkattn::Shape{2, 300}}) {
    CAPTURE(vkattn::to_string(shape));
    const auto x = test::random_tensor(shape);
    vkattn::Graph g;
    g.output("y", vkattn::ops::flatten(g, g.input("x", shape)));
    const auto y = test::run_graph(g, {{"x", x}}, "y");
    CHECK(y.shape == vkattn::Shape{shape[0], vkattn::element_count(shape) / shape[0]});
    test::check_close(y.data, test::widen(x.data));
  }
  vkattn::Graph g;
  CHECK_THROWS_AS(vkattn::ops::flatten(g, g.input("x", {5})), vkattn::Error);
}

TEST_CASE("linear matches the reference for batch and feature counts with remainders") {
  test::NoValidationMessages guard;
  for (int64_t B : {1, 3, 65})
    for (int64_t F : {1, 100, 3136})
      for (int64_t M : {1, 10, 257}) {
        CAPTURE(B); CAPTURE(F); CAPTURE(M);
        const auto x = test::random_tensor({B, F});
        const auto w = test::random_tensor({M, F});
        const auto b = test::random_tensor({M});
        vkattn::Graph g;
        g.output("y", vkattn::ops::linear(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b)));
        const auto y = test::run_graph(g, {{"x", x}}, "y");
        CHECK(y.shape == vkattn::Shape{B, M});
        test::check_close(y.data, vkattn::reference::linear(test::widen(x.data), test::widen(w.data),
                                                            test::widen(b.data), B, F, M));
      }
}

TEST_CASE("linear rejects an unflattened input and a weight that does not fit") {
  vkattn::Graph g;
  CHECK_THROWS_WITH_AS(vkattn::ops::linear(g, g.input("x", {2, 3, 4, 4}), g.weight("w", test::random_tensor({5, 48})),
                                           g.weight("b", test::random_tensor({5}))),
                       doctest::Contains("flatten"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::linear(g, g.input("y", {2, 47}), g.weight("w2", test::random_tensor({5, 48})),
                                           g.weight("b2", test::random_tensor({5}))),
                       doctest::Contains("input features"), vkattn::Error);
}
