// A whole network read from one safetensors file: the layer list as JSON in the metadata key
// "vkattn.network" (vkattn.export in the Python package writes it from a PyTorch module) and the weights
// under their state_dict() names. The graph is built from that description, so any network
// made of the supported layers runs without code written for it:
//
//   {"format": 1, "input": [C, H, W], "layers": [
//     {"type": "conv2d", "name": "conv1", "stride": [1, 1], "padding": [1, 1]},  // conv1.weight, conv1.bias
//     {"type": "max_pool2d", "kernel": [2, 2]},
//     {"type": "self_attention", "name": "attn"},  // attn.query_conv.weight, ...
//     {"type": "flatten"}, {"type": "linear", "name": "fc"}]}                    // fc.weight, fc.bias
//
// Each op that is also a layer documents its own keys (docs/network-format.md lists them all).
// The optional key "vkattn.labels" holds the class names.
#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "vkattn/io.h"
#include "vkattn/ops.h"

namespace vkattn {

struct NetworkTensors {
  TensorId output;                                          // the last layer's result
  std::vector<std::pair<std::string, TensorId>> attention;  // each attention layer's (B, N, N) map
  bool attention_maps = false;                              // whether the maps were asked for
  TensorId input = 0;                                       // the network's input
  // Each attention_crop layer's boxes (B, 4): top, left, bottom, right in input pixels, ends
  // exclusive; under the crop layer's name, else its attention layer's.
  std::vector<std::pair<std::string, TensorId>> boxes;

  // For the layers' use while the graph is built: the attention layers whose map a later layer
  // reads, and those maps with the (h, w) grid of the layer's input, by layer name.
  struct LayerMap {
    TensorId map;
    Size2 grid;
  };
  std::set<std::string> maps_needed;
  std::map<std::string, LayerMap> layer_maps;
};

// Adds one layer's nodes to a graph reading x and returns the layer's result.
using AddLayer = std::function<TensorId(Graph& graph, TensorId x, NetworkTensors& out)>;

struct NetworkLayer {
  std::string type, name;
  AddLayer add;                              // made by the layer's op from its JSON and weights
  std::string describe(size_t index) const;  // "layer 3 (conv2d 'conv2')"
};

class Network {
 public:
  // Whether the file carries a layer list (otherwise it may hold a lone self-attention block).
  static bool describes(const SafeTensors& file);
  // Parses the layer list, takes each layer's weights, and checks that every layer's shapes fit
  // the next for the declared input; any problem is a vkattn::Error naming the file and layer.
  static Network from_safetensors(const SafeTensors& file);

  const Shape& input_shape() const { return input_; }  // one item: (C, H, W)
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<NetworkLayer>& layers() const { return layers_; }

  // Adds the layers to a graph reading x (B, C, H, W). With attention_maps each attention layer
  // also gives its map (and runs unfused to make it).
  NetworkTensors build(Graph& graph, TensorId x, bool attention_maps = false) const;

 private:
  std::string source_;
  Shape input_;
  std::vector<std::string> labels_;
  std::vector<NetworkLayer> layers_;
  std::set<std::string> maps_needed_;  // attention layers a later layer reads the map of
};

}  // namespace vkattn
