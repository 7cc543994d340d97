// Hard attention as a layer (AG-CNN's glimpse): the attention each position of an earlier
// attention layer receives picks a box of the image the node reads (in a format-1 layer list, the
// network's input), which is cut out and resized; the layers after it run on that crop. Three kernels: column_mean, attention_box, crop_resize.
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {

ops::AttentionCrop ops::attention_crop(Graph& g, TensorId map, Size2 grid, TensorId image, float threshold, Size2 size) {
  const Shape shape = g.shape(image);  // a copy: adding nodes moves the shapes
  require(shape.size() == 4, "attention_crop: the image must be (B, C, H, W), but it is " + to_string(shape) + ".");
  const TensorId received = column_mean(g, map);
  const TensorId boxes = attention_box(g, received, grid, {shape[2], shape[3]}, threshold);
  return {received, boxes, crop_resize(g, image, boxes, size)};
}

// {"type": "attention_crop", "inputs": [image, map], "grid": [h, w], "threshold": t, "size": [Ho, Wo]}:
// the heatmap of the map's (B, N, N) column means covers the grid (h w = N); t in [0, 1]; the crop
// of the image (B, C, H, W) is (B, C, Ho, Wo). Instead of a map input, "attention": A may name an
// earlier self_attention or multihead_attention layer, whose map and input grid it then reads
// (format 1's form). "outputs": [crop, boxes] also makes the boxes (B, 4) a value; they are in
// NetworkTensors::boxes under the layer's name, else A.
void register_attention_crop(Registry& r) {
  LayerType type{{"attention", "grid", "threshold", "size"}, false, [](const LayerSpec& spec) -> AddLayer {
    const bool named = spec.has("attention");
    require(named != spec.has("grid"),
            "an attention_crop layer reads a map input with its \"grid\": [h, w], or names an earlier attention "
            "layer in \"attention\" (one of the two).");
    require(spec.has("threshold"), "an attention_crop layer needs a \"threshold\" in [0, 1].");
    require(spec.has("size"), "an attention_crop layer needs a \"size\": [height, width] of the crop.");
    const std::string attention = named ? spec.text("attention", "") : std::string();
    require(!named || !attention.empty(), "its \"attention\" must name an earlier attention layer.");
    const Size2 grid = named ? Size2{} : spec.size2("grid", {});
    require(named || (grid.h >= 1 && grid.w >= 1), "its \"grid\" must be at least 1x1.");
    const float threshold = spec.number("threshold", 0.f);
    const Size2 size = spec.size2("size", {});
    require(threshold >= 0.f && threshold <= 1.f,
            "its \"threshold\" must lie in [0, 1], but it is " + std::to_string(threshold) + ".");
    require(size.h >= 1 && size.w >= 1, "its \"size\" must be at least 1x1, but it is " + std::to_string(size.h) +
                                            "x" + std::to_string(size.w) + ".");
    if (named) spec.need_map(attention);
    const std::string name = !spec.name().empty() ? spec.name() : named ? attention : std::string("attention_crop");
    return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild& out) {
      require(in.size() == (named ? 1u : 2u), named ? "with \"attention\" it reads one value, the image."
                                                    : "it reads two values: the image and the map.");
      LayerBuild::LayerMap map{0, grid};
      if (named) {
        const auto found = out.layer_maps.find(attention);
        require(found != out.layer_maps.end(), "its \"attention\" '" + attention +
                                                   "' is not an earlier attention layer (self_attention or "
                                                   "multihead_attention).");
        map = found->second;
      } else {
        map.map = in[1];
        const Shape& m = g.shape(map.map);
        const int64_t n = grid.h * grid.w;
        require(m.size() == 3 && m[1] == n && m[2] == n,
                "its map must be (B, " + std::to_string(n) + ", " + std::to_string(n) + ") for the " +
                    std::to_string(grid.h) + "x" + std::to_string(grid.w) + " grid, but it is " + to_string(m) + ".");
      }
      const auto crop = ops::attention_crop(g, map.map, map.grid, in[0], threshold, size);
      g.name_node(crop.received, name + ".received");
      g.name_node(crop.boxes, name + ".box");
      g.name_node(crop.crop, name + ".crop");
      out.made.boxes.emplace_back(name, crop.boxes);
      if (out.outputs_wanted > 1) out.more_outputs.push_back(crop.boxes);
      return crop.crop;
    };
  }};
  type.max_inputs = 2;
  type.max_outputs = 2;
  r.add("attention_crop", type);
}

}  // namespace vkattn
