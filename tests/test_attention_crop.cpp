// Hard attention: column_mean, attention_box and crop_resize against float64 (one pixel, odd
// grids, a grid finer than its image, thresholds 0 and 1, up- and downsampling, boxes past the
// image), shapes that do not fit, and the attention_crop layer's checks of its network file.
#include "gpu.h"
#include "vkattn/network.h"

TEST_CASE("hard attention's kernels match the reference") {
  test::check_op("column_mean", {{{"B", 1}, {"R", 1}, {"L", 1}}, {{"B", 5}, {"R", 33}, {"L", 65}}, {{"B", 2}, {"R", 3}, {"L", 300}}});
  test::check_op("attention_box", {{{"B", 1}, {"h", 1}, {"w", 1}, {"H", 1}, {"W", 1}, {"threshold", 0.0}},
                                   {{"B", 5}, {"h", 9}, {"w", 4}, {"H", 27}, {"W", 10}, {"threshold", 0.6}},
                                   {{"B", 2}, {"h", 31}, {"w", 17}, {"H", 31}, {"W", 17}, {"threshold", 0.95}},
                                   {{"B", 4}, {"h", 5}, {"w", 5}, {"H", 9}, {"W", 9}, {"threshold", 0.3}, {"signed", true}}});
  test::check_op("crop_resize", {{{"B", 1}, {"C", 1}, {"H", 1}, {"W", 1}, {"Ho", 3}, {"Wo", 2}},
                                 {{"B", 4}, {"C", 3}, {"H", 19}, {"W", 11}, {"Ho", 7}, {"Wo", 23}},
                                 {{"B", 2}, {"C", 1}, {"H", 8}, {"W", 8}, {"Ho", 8}, {"Wo", 8}, {"outside", true}}});
  test::check_op("attention_crop", {{{"B", 3}, {"C", 2}, {"H", 28}, {"W", 28}, {"h", 7}, {"w", 7}, {"threshold", 0.4},
                                     {"Ho", 14}, {"Wo", 14}},
                                    {{"B", 1}, {"C", 1}, {"H", 9}, {"W", 30}, {"h", 3}, {"w", 10}, {"threshold", 1.0},
                                     {"Ho", 1}, {"Wo", 5}}});
}

TEST_CASE("hard attention's ops refuse shapes that do not fit") {
  vkattn::Graph g;
  const auto map = g.input("map", {2, 12, 12}), image = g.input("image", {2, 3, 8, 8});
  CHECK(g.shape(vkattn::ops::column_mean(g, map)) == vkattn::Shape{2, 12});
  CHECK_THROWS_AS(vkattn::ops::column_mean(g, image), vkattn::Error);
  const auto r = vkattn::ops::column_mean(g, map);
  CHECK(g.shape(vkattn::ops::attention_box(g, r, {3, 4}, {8, 8}, 0.5f)) == vkattn::Shape{2, 4});
  CHECK_THROWS_WITH(vkattn::ops::attention_box(g, r, {3, 3}, {8, 8}, 0.5f), doctest::Contains("must be (B, 9)"));
  CHECK_THROWS_WITH(vkattn::ops::attention_box(g, r, {3, 4}, {8, 8}, 1.5f), doctest::Contains("threshold must lie in [0, 1]"));
  const auto boxes = vkattn::ops::attention_box(g, r, {3, 4}, {8, 8}, 0.5f);
  CHECK(g.shape(vkattn::ops::crop_resize(g, image, boxes, {5, 6})) == vkattn::Shape{2, 3, 5, 6});
  CHECK_THROWS_WITH(vkattn::ops::crop_resize(g, image, boxes, {0, 6}), doctest::Contains("output size"));
  CHECK_THROWS_WITH(vkattn::ops::crop_resize(g, g.input("one", {1, 3, 8, 8}), boxes, {4, 4}),
                    doctest::Contains("boxes must be (1, 4)"));
}

namespace {

// A network of one self-attention layer "attn" over a (2, 6, 8) input, then `crop`, then flatten.
vkattn::SafeTensors glimpse_file(const std::string& crop) {
  const auto t = [](vkattn::Shape s) { return test::random_tensor(s); };
  vkattn::SafeTensors f;
  f.source = "glimpse.safetensors";
  f.tensors = {{"attn.query_conv.weight", t({1, 2, 1, 1})}, {"attn.query_conv.bias", t({1})},
               {"attn.key_conv.weight", t({1, 2, 1, 1})},   {"attn.key_conv.bias", t({1})},
               {"attn.value_conv.weight", t({2, 2, 1, 1})}, {"attn.value_conv.bias", t({2})},
               {"attn.gamma", t({1})},                      {"conv.weight", t({2, 2, 1, 1})},
               {"conv.bias", t({2})}};
  f.metadata["vkattn.network"] = R"({"format": 1, "input": [2, 6, 8], "layers": [
      {"type": "conv2d", "name": "conv"}, {"type": "self_attention", "name": "attn"}, )" + crop + R"(,
      {"type": "flatten"}]})";
  return f;
}

std::string load_error(const std::string& crop) {
  try {
    vkattn::Network::from_safetensors(glimpse_file(crop));
  } catch (const vkattn::Error& e) {
    return e.what();
  }
  return "loaded";
}

}  // namespace

TEST_CASE("an attention_crop layer gives the crop and its boxes, and names itself when its options do not fit") {
  const auto net = vkattn::Network::from_safetensors(
      glimpse_file(R"({"type": "attention_crop", "attention": "attn", "threshold": 0.5, "size": [3, 5]})"));
  vkattn::Graph g;
  const auto out = net.build(g, g.input("x", {4, 2, 6, 8}));
  CHECK(g.shape(out.output) == vkattn::Shape{4, 2 * 3 * 5});
  REQUIRE(out.boxes.size() == 1);
  CHECK(out.boxes[0].first == "attn");
  CHECK(g.shape(out.boxes[0].second) == vkattn::Shape{4, 4});
  CHECK(out.attention.empty());  // the map is made for the crop, not handed out unasked

  // Boxes run from the grid's pixels: each is inside the 6x8 image and holds at least a pixel.
  g.output("boxes", out.boxes[0].second);
  const auto boxes = test::run_graph(g, {{"x", test::random_tensor({4, 2, 6, 8})}}, "boxes");
  for (int b = 0; b < 4; ++b) {
    const float* box = boxes.data.data() + 4 * b;
    CHECK(box[0] >= 0);
    CHECK(box[1] >= 0);
    CHECK(box[2] <= 6);
    CHECK(box[3] <= 8);
    CHECK(box[0] < box[2]);
    CHECK(box[1] < box[3]);
  }

  const std::string layer = "layer 3 (attention_crop)";
  CHECK(load_error(R"({"type": "attention_crop", "threshold": 0.5, "size": 4})")
            .find("or names an earlier attention layer in \"attention\"") != std::string::npos);
  CHECK(load_error(R"({"type": "attention_crop", "attention": "attn", "size": 4})").find("needs a \"threshold\"") !=
        std::string::npos);
  CHECK(load_error(R"({"type": "attention_crop", "attention": "attn", "threshold": 0.5})").find("needs a \"size\"") !=
        std::string::npos);
  for (const std::string bad :
       {R"({"type": "attention_crop", "attention": "nothing", "threshold": 0.5, "size": 4})",
        R"({"type": "attention_crop", "attention": "conv", "threshold": 0.5, "size": 4})"}) {
    const std::string e = load_error(bad);
    CHECK(e.find(layer) != std::string::npos);
    CHECK(e.find("is not an earlier attention layer") != std::string::npos);
  }
  CHECK(load_error(R"({"type": "attention_crop", "attention": "attn", "threshold": 0.5, "size": [0, 4]})")
            .find("must be at least 1x1") != std::string::npos);
  CHECK(load_error(R"({"type": "attention_crop", "attention": "attn", "threshold": 1.5, "size": 4})")
            .find("must lie in [0, 1]") != std::string::npos);
}

TEST_CASE("an attention_crop layer refuses an attention layer that comes after it") {
  auto f = glimpse_file(R"({"type": "attention_crop", "attention": "attn", "threshold": 0.5, "size": 4})");
  f.metadata["vkattn.network"] = R"({"format": 1, "input": [2, 6, 8], "layers": [
      {"type": "attention_crop", "attention": "attn", "threshold": 0.5, "size": 4},
      {"type": "self_attention", "name": "attn"}]})";
  CHECK_THROWS_WITH(vkattn::Network::from_safetensors(f),
                    doctest::Contains("layer 1 (attention_crop): its \"attention\" 'attn' is not an earlier attention layer"));
}
