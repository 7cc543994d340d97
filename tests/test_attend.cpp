// attend O = V A^T, with V read as a channel slice.
#include "gpu.h"

TEST_CASE("attend matches the reference on shapes with remainders") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t Cv : {1, 8, 40, 72})
    for (const test::Spatial& s : test::kSpatialShapes)
      for (int64_t B : {1, 3})
        if (s.h < 64 || Cv * B <= 72)  // keeps the run short on a CPU driver; (3, 72, 64x64) runs in the block test
          specs.push_back({{"B", B}, {"Cv", Cv}, {"N", s.h * s.w}, {"first", 2}});
  test::check_op("attend", specs);
}

TEST_CASE("attend rejects a map of the wrong shape") {
  vkattn::Graph g;
  const auto v = g.input("v", {2, 4, 3, 3});
  CHECK_THROWS_WITH_AS(vkattn::ops::attend(g, {v, 0, 4}, g.input("a", {2, 9, 8})), doctest::Contains("attention map"),
                       vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::attend(g, {v, 2, 4}, g.input("a2", {2, 9, 9})), vkattn::Error);
}
