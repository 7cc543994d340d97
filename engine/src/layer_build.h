// What a layer's builder reads and writes while Network::build adds the layers, beyond the graph:
// the engine's own, not part of the public API.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vkattn/network.h"

namespace vkattn {

struct LayerBuild {
  NetworkTensors& made;  // what the build returns: the attention maps and crop boxes so far
  // The attention layers whose map a later layer reads, and those maps with the (h, w) grid of
  // the layer's input, by layer name.
  struct LayerMap {
    TensorId map;
    Size2 grid;
  };
  const std::set<std::string>& maps_needed;
  std::map<std::string, LayerMap> layer_maps = {};
  // How many values the layer being built makes (1 + those it names after its first) and, from
  // the layer, the values after its first (an attention layer's map, attention_crop's boxes).
  size_t outputs_wanted = 1;
  std::vector<TensorId> more_outputs = {};
};

}  // namespace vkattn
