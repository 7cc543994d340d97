// max_pool2d and avg_pool2d against the double-precision reference.
#include <array>

#include "gpu.h"

TEST_CASE("max and average pooling match the reference, padding included") {
  const std::vector<std::array<vkattn::Shape, 3>> windows = {  // kernel, stride, padding
      {{{2, 2}, {2, 2}, {0, 0}}}, {{{3, 3}, {2, 2}, {1, 1}}}, {{{3, 3}, {1, 1}, {1, 1}}},
      {{{1, 1}, {1, 1}, {0, 0}}}, {{{3, 2}, {3, 1}, {0, 1}}}};
  std::vector<vkattn::conformance::Spec> specs;
  for (const auto& [k, s, pad] : windows)
    for (const vkattn::Shape& in : {vkattn::Shape{1, 1, 3, 3}, {2, 5, 7, 13}, {3, 16, 28, 28}})
      specs.push_back({{"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"k", k}, {"stride", s}, {"pad", pad}});
  test::check_op("max_pool2d", specs);
  test::check_op("avg_pool2d", specs);
}

TEST_CASE("pooling rejects padding over half the kernel and windows larger than the input") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 2, 4, 4});
  CHECK_THROWS_WITH_AS(vkattn::ops::max_pool2d(g, x, {2, 2}, {2, 2}, {2, 0}), doctest::Contains("half the kernel"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::avg_pool2d(g, x, {5, 5}, {1, 1}), doctest::Contains("larger than"), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::max_pool2d(g, g.input("flat", {2, 8}), {2, 2}, {2, 2}), vkattn::Error);
}
