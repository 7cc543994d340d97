#include "vkattn/network.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "json_bounded.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

using json = nlohmann::json;
constexpr const char* kNetworkKey = "vkattn.network";

// "node 3 (conv2d 'conv2')"; `unit` is "layer" for a format-1 list.
std::string describe(const std::string& unit, size_t index, const json& j) {
  std::string type = "?", name;
  if (j.is_object() && j.value("type", json()).is_string()) type = j["type"].get<std::string>();
  if (j.is_object() && j.value("name", json()).is_string()) name = j["name"].get<std::string>();
  if (!j.is_object()) return unit + " " + std::to_string(index);
  return unit + " " + std::to_string(index) + " (" + type + (name.empty() ? "" : " '" + name + "'") + ")";
}

// Runs fn, putting "'file', <where>: " before any error it throws.
template <typename Fn>
auto in_layer(const std::string& source, const std::string& where, Fn fn) {
  try {
    return fn();
  } catch (const Error& e) {
    std::string message = e.what();
    const std::string named = "'" + source + "' ";
    if (message.rfind(named, 0) == 0) message = "the file " + message.substr(named.size());
    if (!message.empty()) message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
    throw Error("'" + source + "', " + where + ": " + message);
  }
}

// Checks the keys every layer shares, then hands the layer to its op's parser. `inputs` and
// `output` are the values it reads and makes (format 1 gives them; format 2 reads them here).
NetworkLayer parse_layer(const SafeTensors& f, const json& j, std::set<std::string>& maps_needed, bool graph_format) {
  require(j.is_object() && j.contains("type") && j["type"].is_string(),
          "it must be an object with a \"type\", but it is " + json_excerpt(j) + ".");
  NetworkLayer layer;
  layer.type = j["type"].get<std::string>();
  const LayerType* type = Registry::instance().layer(layer.type);
  require(type, "its type '" + layer.type + "' is not one vkattn runs (" + Registry::instance().layer_names() + ").");
  if (j.contains("name")) {
    require(j["name"].is_string() && !j["name"].get<std::string>().empty(), "its \"name\" must be a non-empty string.");
    layer.name = j["name"].get<std::string>();
  }
  require(!type->named || !layer.name.empty(),
          "a " + layer.type + " layer needs a \"name\": the prefix of its tensors.");
  for (const auto& [key, value] : j.items()) {
    bool known = key == "type" || key == "name" ||
                 (graph_format && (key == "inputs" || key == "output" || (key == "outputs" && type->max_outputs > 1)));
    for (const std::string& option : type->options) known |= key == option;
    require(known, "it has a key '" + key + "' that a " + layer.type + " " + (graph_format ? "node" : "layer") +
                       " does not take.");
  }
  if (graph_format) {
    const json& inputs = j.value("inputs", json());
    require(inputs.is_array() && !inputs.empty(), "it needs \"inputs\": a list of the values it reads.");
    for (const json& v : inputs) {
      require(v.is_string() && !v.get<std::string>().empty(), "its \"inputs\" must be value names (strings).");
      layer.inputs.push_back(v.get<std::string>());
    }
    if (j.contains("outputs")) {
      const json& outputs = j["outputs"];
      require(!j.contains("output"), "it takes an \"output\" or \"outputs\", not both.");
      require(outputs.is_array() && !outputs.empty() && outputs.size() <= type->max_outputs,
              "its \"outputs\" must list 1 to " + std::to_string(type->max_outputs) + " value names.");
      for (const json& v : outputs) {
        require(v.is_string() && !v.get<std::string>().empty(), "its \"outputs\" must be value names (strings).");
        (layer.output.empty() ? layer.output : layer.more_outputs.emplace_back()) = v.get<std::string>();
      }
    } else {
      const json& output = j.value("output", json(layer.name));
      require(output.is_string() && !output.get<std::string>().empty(),
              "it needs an \"output\" (or a \"name\"): the name of the value it makes.");
      layer.output = output.get<std::string>();
    }
  }
  layer.add = type->parse(LayerSpec(j, f, maps_needed));
  return layer;
}

// The layers in an order where each comes after what it reads: every value read must be an input
// or a layer's output, made once, with no cycle.
std::vector<NetworkLayer> in_reading_order(const std::string& source, std::vector<NetworkLayer> layers,
                                           const std::vector<std::pair<std::string, Shape>>& inputs) {
  std::map<std::string, size_t> maker;  // value -> layer index, inputs as layers.size()
  for (const auto& [name, shape] : inputs) maker[name] = layers.size();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<std::string> made = {layers[i].output};
    made.insert(made.end(), layers[i].more_outputs.begin(), layers[i].more_outputs.end());
    for (const std::string& value : made) {
      const auto [it, fresh] = maker.emplace(value, i);
      if (!fresh)
        throw Error("'" + source + "', " + layers[i].where + ": the value '" + value + "' is made twice (" +
                    (it->second == layers.size() ? "it is also an input"
                     : it->second == i           ? "by this node"
                                                 : "also by " + layers[it->second].where) +
                    ").");
    }
  }
  for (const NetworkLayer& layer : layers)
    for (const std::string& value : layer.inputs)
      if (!maker.count(value))
        throw Error("'" + source + "', " + layer.where + ": it reads '" + value + "', which no input or node makes.");
  std::vector<NetworkLayer> ordered;
  std::set<std::string> known;
  for (const auto& [name, shape] : inputs) known.insert(name);
  std::vector<bool> placed(layers.size(), false);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (const std::string& value : layers[i].inputs) ready &= known.count(value) > 0;
      if (!ready) continue;
      placed[i] = progress = true;
      known.insert(layers[i].output);
      known.insert(layers[i].more_outputs.begin(), layers[i].more_outputs.end());
      ordered.push_back(layers[i]);
    }
  }
  for (size_t i = 0; i < layers.size(); ++i)
    if (!placed[i])
      throw Error("'" + source + "', " + layers[i].where + ": it is part of a cycle (what it reads depends on its own "
                  "output '" + layers[i].output + "').");
  return ordered;
}

// An item shape from JSON: positive whole numbers up to 2^20, at least one.
Shape item_shape(const json& dims, const std::function<void(const std::string&)>& fail) {
  if (!dims.is_array() || dims.empty() || dims.size() > 7) fail("has a shape that is not a list of 1 to 7 sizes.");
  Shape shape;
  for (const json& d : dims) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t{1} << 20))
      fail("has a size that is not a positive whole number: " + json_excerpt(dims) + ".");
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

}  // namespace

bool Network::describes(const SafeTensors& file) { return file.metadata.count(kNetworkKey) > 0; }

Network Network::from_safetensors(const SafeTensors& f) {
  Network net;
  net.source_ = f.source;
  const auto fail = [&](const std::string& why) { throw Error("'" + f.source + "': the network " + why); };
  json doc;
  try {
    const std::string& text = f.metadata.at(kNetworkKey);
    doc = parse_json_bounded(text.begin(), text.end(), "'" + f.source + "': the network");
  } catch (const std::out_of_range&) {
    fail("is missing: the file has no metadata key '" + std::string(kNetworkKey) + "'.");
  } catch (const json::exception& e) {
    std::string why = e.what();  // nlohmann quotes the last token read, which may be long
    if (why.size() > 160) why = why.substr(0, 160) + "...";
    fail("in metadata '" + std::string(kNetworkKey) + "' is not valid JSON (" + why + ").");
  }
  const json format = doc.is_object() ? doc.value("format", json()) : json();
  if (format == json(1)) {
    // A chain: layer i reads what layer i-1 made (the first, and attention_crop, the input "x"); the
    // last makes the output "y".
    const json& input = doc.value("input", json());
    if (!input.is_array() || input.size() != 3) fail("needs \"input\": [C, H, W].");
    net.inputs_.emplace_back("x", item_shape(input, [&](const std::string& why) { fail("\"input\" " + why); }));
    const json& layers = doc.value("layers", json());
    if (!layers.is_array() || layers.empty()) fail("needs a non-empty \"layers\" array.");
    std::string previous = "x";
    for (size_t i = 0; i < layers.size(); ++i) {
      const std::string where = describe("layer", i + 1, layers[i]);
      NetworkLayer layer = in_layer(f.source, where, [&] { return parse_layer(f, layers[i], net.maps_needed_, false); });
      layer.where = where;
      layer.inputs = {layer.type == "attention_crop" ? "x" : previous};
      layer.output = previous = i + 1 == layers.size() ? "y" : "layer " + std::to_string(i + 1);
      net.layers_.push_back(std::move(layer));
    }
    net.outputs_ = {previous};
  } else if (format == json(2)) {
    if (const json& batch = doc.value("batch", json()); !batch.is_null()) {
      if (batch != "implicit") fail("has \"batch\": " + json_excerpt(batch) + "; the one value it takes is \"implicit\".");
      net.implicit_batch_ = true;
    }
    const json& inputs = doc.value("inputs", json());
    if (!inputs.is_array() || inputs.empty()) fail("needs \"inputs\": a list of {\"name\", \"shape\"}.");
    for (const json& in : inputs) {
      if (!in.is_object() || !in.value("name", json()).is_string() || in["name"].get<std::string>().empty())
        fail("has an input without a \"name\": " + json_excerpt(in) + ".");
      const std::string name = in["name"].get<std::string>();
      for (const auto& [other, shape] : net.inputs_)
        if (other == name) fail("has two inputs called '" + name + "'.");
      net.inputs_.emplace_back(name, item_shape(in.value("shape", json()), [&](const std::string& why) {
                                 fail("input '" + name + "' " + why);
                               }));
    }
    const json& nodes = doc.value("nodes", json());
    if (!nodes.is_array() || nodes.empty()) fail("needs a non-empty \"nodes\" array.");
    std::vector<NetworkLayer> layers;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const std::string where = describe("node", i + 1, nodes[i]);
      NetworkLayer layer = in_layer(f.source, where, [&] {
        NetworkLayer l = parse_layer(f, nodes[i], net.maps_needed_, true);
        const LayerType& type = *Registry::instance().layer(l.type);
        const std::string want = type.min_inputs == type.max_inputs
                                     ? std::to_string(type.min_inputs)
                                     : std::to_string(type.min_inputs) + " or " + std::to_string(type.max_inputs);
        require(l.inputs.size() >= type.min_inputs && l.inputs.size() <= type.max_inputs,
                "a " + l.type + " node reads " + want + " value" + (type.max_inputs == 1 ? "" : "s") +
                    ", but it names " + std::to_string(l.inputs.size()) + ".");
        return l;
      });
      layer.where = where;
      layers.push_back(std::move(layer));
    }
    net.layers_ = in_reading_order(f.source, std::move(layers), net.inputs_);
    const json& outputs = doc.value("outputs", json());
    if (!outputs.is_array() || outputs.empty()) fail("needs \"outputs\": a non-empty list of value names.");
    for (const json& o : outputs) {
      if (!o.is_string()) fail("has an output that is not a value name: " + json_excerpt(o) + ".");
      const std::string name = o.get<std::string>();
      bool made = false;
      for (const auto& [input, shape] : net.inputs_) made |= input == name;
      for (const NetworkLayer& l : net.layers_)
        made |= l.output == name || std::count(l.more_outputs.begin(), l.more_outputs.end(), name) > 0;
      if (!made) fail("has an output '" + name + "', which no input or node makes.");
      for (const std::string& other : net.outputs_)
        if (other == name) fail("names the output '" + name + "' twice.");
      net.outputs_.push_back(name);
    }
  } else {
    fail("must be a JSON object with \"format\": 1 (a layer list) or 2 (a graph of named values).");
  }
  if (auto it = f.metadata.find("vkattn.labels"); it != f.metadata.end()) {
    json labels;
    try {
      labels = parse_json_bounded(it->second.begin(), it->second.end(), "'" + f.source + "': metadata 'vkattn.labels'");
    } catch (const json::exception&) {
      // not JSON: refused just below as not a list
    }
    if (!labels.is_array()) throw Error("'" + f.source + "': metadata 'vkattn.labels' must be a JSON list of names.");
    for (const json& l : labels) {
      if (!l.is_string()) throw Error("'" + f.source + "': metadata 'vkattn.labels' must hold strings only.");
      net.labels_.push_back(l.get<std::string>());
    }
  }
  // Every layer's shapes, checked now for one item, so a bad file fails at load.
  Graph check;
  const NetworkTensors out = net.build(check, net.add_inputs(check, 1));
  const Shape& result = check.shape(out.output);
  if (!net.labels_.empty() && (result.size() != 2 || result[1] != static_cast<int64_t>(net.labels_.size())))
    throw Error("'" + f.source + "' names " + std::to_string(net.labels_.size()) + " classes but the network's output is " +
                to_string(result) + ".");
  return net;
}

std::map<std::string, TensorId> Network::add_inputs(Graph& g, int64_t batch) const {
  std::map<std::string, TensorId> ids;
  for (const auto& [name, item] : inputs_) {
    Shape shape = item;
    shape.insert(shape.begin(), batch);
    ids[name] = g.input(name, shape);
  }
  return ids;
}

NetworkTensors Network::build(Graph& g, TensorId x, bool attention_maps) const {
  require(inputs_.size() == 1, "'" + source_ + "' has " + std::to_string(inputs_.size()) +
                                   " inputs: give each by name.");
  return build(g, {{inputs_.front().first, x}}, attention_maps);
}

NetworkTensors Network::build(Graph& g, const std::map<std::string, TensorId>& inputs, bool attention_maps) const {
  std::map<std::string, TensorId> values;
  for (const auto& [name, item] : inputs_) {
    const auto it = inputs.find(name);
    require(it != inputs.end(), "'" + source_ + "' needs the input '" + name + "'.");
    const Shape& shape = g.shape(it->second);
    std::string batched = "(B";
    for (int64_t d : item) batched += ", " + std::to_string(d);
    require(shape.size() == item.size() + 1 && Shape(shape.begin() + 1, shape.end()) == item,
            "'" + source_ + "' takes input " + (inputs_.size() == 1 ? "" : "'" + name + "' of shape ") + batched +
                "), but the input is " + to_string(shape) + ".");
    values[name] = it->second;
  }
  require(inputs.size() == inputs_.size(), "'" + source_ + "' is given an input it does not have.");
  NetworkTensors out;
  out.attention_maps = attention_maps;
  LayerBuild build{out, maps_needed_};
  for (const NetworkLayer& layer : layers_) {
    std::vector<TensorId> in;
    for (const std::string& value : layer.inputs) in.push_back(values.at(value));
    const size_t nodes_before = g.nodes().size();
    build.outputs_wanted = 1 + layer.more_outputs.size();
    build.more_outputs.clear();
    const TensorId result = in_layer(source_, layer.where, [&] {
      const TensorId y = layer.add(g, in, build);
      require(build.more_outputs.size() == layer.more_outputs.size(),
              "it makes " + std::to_string(1 + build.more_outputs.size()) + " value(s), but names " +
                  std::to_string(1 + layer.more_outputs.size()) + ".");
      return y;
    });
    for (size_t k = 0; k < layer.more_outputs.size(); ++k) values[layer.more_outputs[k]] = build.more_outputs[k];
    // A named layer of one node gives it its name; a block names its own nodes after it.
    if (!layer.name.empty() && g.nodes().size() == nodes_before + 1) g.name_node(result, layer.name);
    values[layer.output] = result;
  }
  for (const std::string& name : outputs_) out.outputs.emplace_back(name, values.at(name));
  out.output = out.outputs.front().second;
  return out;
}

}  // namespace vkattn
