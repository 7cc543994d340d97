// Ops find each other by name here. Every op unit (a folder engine/src/ops/<unit>/) defines
// `void register_<unit>(Registry&)`; CMake lists the folders and generates the calls, so adding
// an op adds no line to any shared file. A unit registers its op names and, where the op is a
// network layer, how the layer's JSON becomes graph nodes.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ops/op.h"
#include "layer_build.h"
#include "vkattn/network.h"

namespace vkattn {

// One layer of a network file ({"type": ..., "name": ..., options}) and the file that holds its
// weights. Every accessor checks what it reads and throws a vkattn::Error saying what is wrong.
class LayerSpec {
 public:
  LayerSpec(const nlohmann::json& layer, const SafeTensors& file, std::set<std::string>& maps_needed)
      : layer_(layer), file_(file), maps_needed_(maps_needed) {}
  const std::string name() const { return layer_.value("name", std::string()); }
  const SafeTensors& file() const { return file_; }
  bool has(const char* key) const { return layer_.contains(key); }
  Size2 size2(const char* key, Size2 fallback) const;   // [h, w] or one number for both
  float number(const char* key, float fallback) const;  // a finite number
  int64_t integer(const char* key, int64_t fallback) const;  // a whole number from 0 to 2^20
  // For dims, slice bounds and shapes that may count from the end: any whole number that fits
  // int64, and a list of them (one number reads as a list of one).
  int64_t signed_integer(const char* key, int64_t fallback) const;
  std::vector<int64_t> integers(const char* key) const;
  // [h, w] or one number for both: positive finite numbers, kept in double (Python's floats).
  std::array<double, 2> reals2(const char* key, std::array<double, 2> fallback) const;
  bool flag(const char* key, bool fallback) const;      // true or false
  std::string text(const char* key, const std::string& fallback) const;  // a string
  const HostTensor& tensor(const std::string& suffix) const;  // "<name>.<suffix>"
  // This layer reads the map of the attention layer of that name, which must then make it.
  void need_map(const std::string& layer) const { maps_needed_.insert(layer); }

 private:
  const nlohmann::json& layer_;
  const SafeTensors& file_;
  std::set<std::string>& maps_needed_;
};

struct LayerType {
  std::vector<std::string> options;  // keys the layer takes besides "type", "name", "inputs", "output"
  bool named = false;                // needs a "name": the prefix of its tensors
  std::function<AddLayer(const LayerSpec&)> parse;
  size_t min_inputs = 1, max_inputs = 1;  // how many values a node of this type reads
  size_t max_outputs = 1;                 // how many it can make ("outputs": [...])
};

// A layer with no options and no weights that applies one op to its input.
inline LayerType plain_layer(TensorId (*op)(Graph&, TensorId)) {
  return {{}, false, [op](const LayerSpec&) -> AddLayer {
            return [op](Graph& g, const std::vector<TensorId>& in, LayerBuild&) { return op(g, in[0]); };
          }};
}

// The graph part of an attention layer: checks the (B, C, H, W) input, adds the block with
// add(graph, x, name + ".", maps wanted) -> {y, optional map}, and records the map under the
// layer's name when the network asks for maps, and for later layers when one reads it.
template <class AddBlock>
AddLayer attention_layer(const std::string& type, const std::string& name, AddBlock add) {
  return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild& out) {
    const TensorId x = in[0];
    const Shape& shape = g.shape(x);
    require(shape.size() == 4, type + " needs a (B, C, H, W) input, but it gets " + to_string(shape) + ".");
    const Size2 grid{shape[2], shape[3]};
    const bool needed = out.maps_needed.count(name) > 0 || out.outputs_wanted > 1;
    const auto block = add(g, x, name + ".", out.made.attention_maps || needed);
    if (block.attention && out.made.attention_maps) out.made.attention.emplace_back(name, *block.attention);
    if (block.attention && needed) out.layer_maps[name] = {*block.attention, grid};
    if (block.attention && out.outputs_wanted > 1) out.more_outputs.push_back(*block.attention);
    return block.y;
  };
}

class Registry {
 public:
  static const Registry& instance();
  // An op; with a layer type when network files may name it.
  void add(const std::string& op, std::optional<LayerType> layer = std::nullopt);
  const LayerType* layer(const std::string& type) const;  // null if no op takes that name
  std::vector<std::string> ops() const;
  std::string layer_names() const;  // "conv2d, flatten, ...", for error messages

 private:
  std::map<std::string, std::optional<LayerType>> ops_;
};

}  // namespace vkattn
