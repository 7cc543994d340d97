// A whole network read from one safetensors file: its description as JSON in the metadata key
// "vkattn.network" and the weights under their state_dict() names. The graph is built from that
// description, so any network made of the supported layers runs without code written for it.
// Format 2 is a graph of named values (docs/network-format.md):
//
//   {"format": 2, "inputs": [{"name": "x", "shape": [C, H, W]}],
//    "nodes": [{"type": "conv2d", "name": "conv1", "inputs": ["x"], "output": "a", "padding": [1, 1]},
//              {"type": "relu", "inputs": ["a"], "output": "b"},
//              {"type": "add", "inputs": ["a", "b"], "output": "c"}, ...],
//    "outputs": ["c"]}
//
// Format 1, a chain of layers ({"format": 1, "input": [C, H, W], "layers": [...]}), is rewritten
// into format 2 when it is read. Each op that is also a layer documents its own keys. The optional
// key "vkattn.labels" holds the class names.
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
  TensorId output;                                          // the first named output
  std::vector<std::pair<std::string, TensorId>> outputs;    // every named output, in file order
  std::vector<std::pair<std::string, TensorId>> attention;  // each attention layer's (B, N, N) map
  bool attention_maps = false;                              // whether the maps were asked for
  // Each attention_crop layer's boxes (B, 4): top, left, bottom, right in input pixels, ends
  // exclusive; under the crop layer's name, else its attention layer's.
  std::vector<std::pair<std::string, TensorId>> boxes;
};

// What the layers share while Network::build adds them (the engine's own: engine/src/layer_build.h).
struct LayerBuild;

// Adds one layer's nodes to a graph reading the values `in` and returns the layer's result.
using AddLayer = std::function<TensorId(Graph& graph, const std::vector<TensorId>& in, LayerBuild& build)>;

struct NetworkLayer {
  std::string type, name;
  std::vector<std::string> inputs;  // the values it reads
  std::string output;               // the value it makes
  std::vector<std::string> more_outputs;  // values after the first, for layers that make several
  AddLayer add;                     // made by the layer's op from its JSON and weights
  std::string where;                // "node 3 (conv2d 'conv2')" or, from format 1, "layer 3 (...)"
};

class Network {
 public:
  // Whether the file carries a layer list (otherwise it may hold a lone self-attention block).
  static bool describes(const SafeTensors& file);
  // Parses the layer list, takes each layer's weights, and checks that every layer's shapes fit
  // the next for the declared input; any problem is a vkattn::Error naming the file and layer.
  static Network from_safetensors(const SafeTensors& file);

  // The inputs' names and shapes of one item (without the batch), in file order; a format-1 file
  // has one, "x" of (C, H, W).
  const std::vector<std::pair<std::string, Shape>>& inputs() const { return inputs_; }
  const Shape& input_shape() const { return inputs_.front().second; }  // the first input's
  const std::vector<std::string>& output_names() const { return outputs_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // A format-2 file with "batch": "implicit" (an ONNX model of fixed shapes): each input's shape
  // is the whole array, run as one batch item; callers give and get arrays without a batch axis.
  bool implicit_batch() const { return implicit_batch_; }
  // In an order where every layer comes after the layers it reads.
  const std::vector<NetworkLayer>& layers() const { return layers_; }

  // Adds each input to the graph at batch size `batch`, (batch, ...item shape), by name: what
  // build() then reads.
  std::map<std::string, TensorId> add_inputs(Graph& graph, int64_t batch) const;
  // Adds the layers to a graph reading each input by name, (B, ...item shape). With
  // attention_maps each attention layer also gives its map (and runs unfused to make it).
  NetworkTensors build(Graph& graph, const std::map<std::string, TensorId>& inputs, bool attention_maps = false) const;
  // The same for a network with one input.
  NetworkTensors build(Graph& graph, TensorId x, bool attention_maps = false) const;

 private:
  std::string source_;
  std::vector<std::pair<std::string, Shape>> inputs_;
  std::vector<std::string> outputs_;
  std::vector<std::string> labels_;
  std::vector<NetworkLayer> layers_;
  std::set<std::string> maps_needed_;  // attention layers a later layer reads the map of
  bool implicit_batch_ = false;
};

}  // namespace vkattn
