// nn.MultiheadAttention over feature-map positions, through add_multihead_attention, against its
// float64 definition: heads from 1 to C, N = 1, odd sizes, the residual and the heads' mean map;
// and the clear errors for weights that do not fit.
#include "gpu.h"
#include "vkattn/multihead_attention.h"

TEST_CASE("multihead_attention matches the reference") {
  struct Case { int64_t B, C, heads, H, W; bool residual, map, head_maps = false; };
  std::vector<vkattn::conformance::Spec> specs;
  for (const Case& c : {Case{1, 1, 1, 1, 1, false, true}, Case{3, 6, 2, 1, 1, true, true}, Case{2, 12, 4, 5, 7, false, false},
                        Case{2, 9, 9, 7, 5, true, true}, Case{1, 16, 1, 9, 11, true, false},
                        Case{2, 40, 5, 17, 19, false, true}, Case{1, 64, 8, 32, 32, true, false},
                        Case{3, 10, 5, 3, 7, true, false, true}, Case{2, 8, 2, 9, 9, false, true, true}}) {
    vkattn::conformance::Spec s = {{"B", c.B}, {"C", c.C}, {"heads", c.heads}, {"H", c.H}, {"W", c.W}};
    if (c.residual) s["residual"] = true;
    if (c.map) s["map"] = true;
    if (c.head_maps) s["head_maps"] = true;
    specs.push_back(s);
  }
  test::check_op("multihead_attention", specs);
}

TEST_CASE("multihead_attention refuses heads that do not divide C and weights that do not fit") {
  vkattn::SafeTensors f;
  f.source = "mha.safetensors";
  f.tensors["a.in_proj_weight"] = {{18, 6}, std::vector<float>(108, 0.1f)};
  f.tensors["a.in_proj_bias"] = {{18}, std::vector<float>(18, 0.f)};
  f.tensors["a.out_proj.weight"] = {{6, 6}, std::vector<float>(36, 0.1f)};
  f.tensors["a.out_proj.bias"] = {{6}, std::vector<float>(6, 0.f)};
  CHECK_NOTHROW(vkattn::MultiheadAttentionWeights::from_safetensors(f, "a.", 3, false));
  CHECK_THROWS_WITH(vkattn::MultiheadAttentionWeights::from_safetensors(f, "a.", 4, false),
                    doctest::Contains("4 heads do not divide the 6 channels"));
  f.tensors["a.out_proj.weight"] = {{6, 5}, std::vector<float>(30, 0.1f)};
  CHECK_THROWS_WITH(vkattn::MultiheadAttentionWeights::from_safetensors(f, "a.", 3, false),
                    doctest::Contains("'a.out_proj.weight' must have shape (6, 6)"));
  f.tensors["a.in_proj_weight"] = {{12, 6}, std::vector<float>(72, 0.1f)};
  CHECK_THROWS_WITH(vkattn::MultiheadAttentionWeights::from_safetensors(f, "a.", 3, false),
                    doctest::Contains("must have shape (3C, C)"));
  f.tensors.erase("a.in_proj_bias");
  f.tensors["a.in_proj_weight"] = {{18, 6}, std::vector<float>(108, 0.1f)};
  CHECK_THROWS_WITH(vkattn::MultiheadAttentionWeights::from_safetensors(f, "a.", 3, false),
                    doctest::Contains("in_proj_bias"));
}
