// The attention map recomputed from the fused attention's statistics.
#include "gpu.h"

TEST_CASE("attention_map matches the reference") {
  std::vector<vkattn::conformance::Spec> specs;
  for (const test::Spatial& s : test::kSpatialShapes)
    for (auto [B, Cq, groups] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 9, 2}})
      specs.push_back({{"B", B}, {"Cq", Cq}, {"Cv", 4}, {"N", s.h * s.w}, {"groups", groups}});
  test::check_op("attention_map", specs);
}

TEST_CASE("attention_map rejects keys and statistics that do not fit the queries") {
  vkattn::Graph g;
  const auto q = g.input("q", {2, 4, 3, 3});
  const auto kv = g.input("kv", {2, 9, 6}), stats = g.input("stats", {2, 1, 2, 9});
  CHECK_NOTHROW(vkattn::ops::attention_map(g, {q, 0, 4}, kv, stats, 1.f));
  CHECK_THROWS_AS(vkattn::ops::attention_map(g, {q, 0, 4}, g.input("kv8", {2, 8, 6}), stats, 1.f), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::attention_map(g, {q, 0, 4}, g.input("k3", {2, 9, 3}), stats, 1.f), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::attention_map(g, {q, 0, 4}, kv, g.input("s3", {2, 1, 3, 9}), 1.f), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::attention_map(g, {q, 2, 3}, kv, stats, 1.f), vkattn::Error);  // query outside
}
