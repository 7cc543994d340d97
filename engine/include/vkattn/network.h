// A whole network read from one safetensors file: the layer list as JSON in the metadata key
// "vkattn.network" (samples/classify/export.py writes it from a PyTorch model) and the weights
// under their state_dict() names. The graph is built from that description, so any network
// made of the supported layers runs without code written for it:
//
//   {"format": 1, "input": [C, H, W], "layers": [
//     {"type": "conv2d", "name": "conv1", "stride": [1, 1], "padding": [1, 1]},  // conv1.weight, conv1.bias
//     {"type": "relu"},
//     {"type": "max_pool2d", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]},  // avg_pool2d alike
//     {"type": "self_attention", "name": "attn", "scale": 1.0},  // attn.query_conv.weight, ...
//     {"type": "global_avg_pool2d"}, {"type": "flatten"},
//     {"type": "linear", "name": "fc"}]}                                             // fc.weight, fc.bias
//
// Sizes are [h, w] or one number for both; stride and padding default to 1 and 0 for conv2d, and
// stride to the kernel for pooling. The optional key "vkattn.labels" holds the class names.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vkattn/io.h"
#include "vkattn/ops.h"
#include "vkattn/self_attention.h"

namespace vkattn {

struct NetworkLayer {
  std::string type, name;
  Size2 kernel, stride, padding;
  std::optional<HostTensor> weight, bias;         // conv2d, linear
  std::optional<SelfAttentionWeights> attention;  // self_attention
  std::string describe(size_t index) const;       // "layer 3 (conv2d 'conv2')"
};

struct NetworkTensors {
  TensorId output;                                          // the last layer's result
  std::vector<std::pair<std::string, TensorId>> attention;  // each self_attention layer's (B, N, N) map
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

  // Adds the layers to a graph reading x (B, C, H, W).
  NetworkTensors build(Graph& graph, TensorId x) const;

 private:
  std::string source_;
  Shape input_;
  std::vector<std::string> labels_;
  std::vector<NetworkLayer> layers_;
};

}  // namespace vkattn
