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

// {"type": "attention_crop", "attention": A, "threshold": t, "size": [Ho, Wo]}: A names an
// earlier self_attention or multihead_attention layer, whose input grid (h, w) the heatmap of
// its map's column means covers; t in [0, 1]; the crop of the image it reads (B, C, H, W) is
// (B, C, Ho, Wo). The boxes are in NetworkTensors::boxes under the layer's name, else A.
void register_attention_crop(Registry& r) {
  r.add("attention_crop", LayerType{{"attention", "threshold", "size"}, false, [](const LayerSpec& spec) -> AddLayer {
          require(spec.has("attention") && !spec.text("attention", "").empty(),
                  "an attention_crop layer needs \"attention\": the name of an earlier attention layer.");
          require(spec.has("threshold"), "an attention_crop layer needs a \"threshold\" in [0, 1].");
          require(spec.has("size"), "an attention_crop layer needs a \"size\": [height, width] of the crop.");
          const std::string attention = spec.text("attention", "");
          const float threshold = spec.number("threshold", 0.f);
          const Size2 size = spec.size2("size", {});
          require(threshold >= 0.f && threshold <= 1.f,
                  "its \"threshold\" must lie in [0, 1], but it is " + std::to_string(threshold) + ".");
          require(size.h >= 1 && size.w >= 1, "its \"size\" must be at least 1x1, but it is " + std::to_string(size.h) +
                                                  "x" + std::to_string(size.w) + ".");
          spec.need_map(attention);
          const std::string name = spec.name().empty() ? attention : spec.name();
          return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors& out) {
            const auto map = out.layer_maps.find(attention);
            require(map != out.layer_maps.end(), "its \"attention\" '" + attention +
                                                     "' is not an earlier attention layer (self_attention or "
                                                     "multihead_attention).");
            const auto crop = ops::attention_crop(g, map->second.map, map->second.grid, in[0], threshold, size);
            g.name_node(crop.received, name + ".received");
            g.name_node(crop.boxes, name + ".box");
            g.name_node(crop.crop, name + ".crop");
            out.boxes.emplace_back(name, crop.boxes);
            return crop.crop;
          };
        }});
}

}  // namespace vkattn
