// Any text as a network description, format 1 or 2 (metadata "vkattn.network"), over a fixed set of weights that
// the seed networks use: either a vkattn::Error or a network whose graph builds for any batch.
#include <map>
#include <string>
#include <utility>

#include "invariants.h"
#include "vkattn/error.h"
#include "vkattn/graph.h"
#include "vkattn/network.h"

namespace {

vkattn::SafeTensors weights() {
  vkattn::SafeTensors file;
  file.source = "input";
  const std::pair<const char*, vkattn::Shape> shapes[] = {
      {"conv.weight", {4, 1, 3, 3}},           {"conv.bias", {4}},
      {"conv2.weight", {4, 4, 3, 3}},          {"conv2.bias", {4}},
      {"attn.query_conv.weight", {1, 4, 1, 1}}, {"attn.query_conv.bias", {1}},
      {"attn.key_conv.weight", {1, 4, 1, 1}},   {"attn.key_conv.bias", {1}},
      {"attn.value_conv.weight", {4, 4, 1, 1}}, {"attn.value_conv.bias", {4}},
      {"attn.gamma", {1}},                     {"attn.additive.weight", {1, 1}},
      {"se.fc1.weight", {2, 4, 1, 1}},          {"se.fc1.bias", {2}},
      {"se.fc2.weight", {4, 2, 1, 1}},          {"se.fc2.bias", {4}},
      {"mha.in_proj_weight", {12, 4}},          {"mha.in_proj_bias", {12}},
      {"mha.out_proj.weight", {4, 4}},          {"mha.out_proj.bias", {4}},
      {"fc.weight", {10, 64}},                 {"fc.bias", {10}},
      {"head.weight", {10, 4}},                {"head.bias", {10}},
      {"bn.running_mean", {4}},                {"bn.running_var", {4}},
      {"dw.weight", {4, 2, 3, 3}},             {"dw.bias", {4}},
      {"ln.weight", {4}},                      {"ln.bias", {4}},
      {"tok.weight", {12, 4}},                 {"tok.bias", {12}},
      {"cls", {1, 1, 4}},                      {"relbias", {2, 5, 5}},
      {"mask", {2, 5, 5}},                     {"sasa.rel_h", {1, 3}},
      {"sasa.query.weight", {4, 4, 1, 1}},     {"sasa.rel_w", {1, 3}},
      {"sasa.key.weight", {4, 4, 1, 1}},       {"sasa.value.weight", {4, 4, 1, 1}}};
  for (const auto& [name, shape] : shapes) {
    vkattn::HostTensor t;
    t.shape = shape;
    uint64_t count = 1;
    for (int64_t d : shape) count *= d;
    for (uint64_t i = 0; i < count; ++i) t.data.push_back(0.01f * static_cast<float>(i % 7));
    file.tensors.emplace(name, std::move(t));
  }
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const vkattn::SafeTensors base = weights();
  vkattn::SafeTensors file = base;
  file.metadata["vkattn.network"] = std::string(reinterpret_cast<const char*>(data), size);
  try {
    const vkattn::Network net = vkattn::Network::from_safetensors(file);
    for (const bool maps : {true, false}) {  // without maps, only the layers a crop reads make theirs
      vkattn::Graph graph;
      const vkattn::NetworkTensors out = net.build(graph, net.add_inputs(graph, 3), maps);
      fuzz::expect(out.outputs.size() == net.output_names().size(), "a named output is missing");
      for (const auto& [name, value] : out.outputs)
        fuzz::expect(graph.shape(value).at(0) == 3, "a network's output lost the batch dimension");
      for (const auto& [name, boxes] : out.boxes)
        fuzz::expect(graph.shape(boxes) == vkattn::Shape{3, 4}, "an attention_crop's boxes are not (B, 4)");
    }
  } catch (const vkattn::Error&) {
  }
  return 0;
}
