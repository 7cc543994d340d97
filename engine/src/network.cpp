#include "vkattn/network.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "json_bounded.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

using json = nlohmann::json;
constexpr const char* kNetworkKey = "vkattn.network";

// Checks the keys every layer shares, then hands the layer to its op's parser.
NetworkLayer parse_layer(const SafeTensors& f, const json& j, std::set<std::string>& maps_needed) {
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
    bool known = key == "type" || key == "name";
    for (const std::string& option : type->options) known |= key == option;
    require(known, "it has a key '" + key + "' that a " + layer.type + " layer does not take.");
  }
  layer.add = type->parse(LayerSpec(j, f, maps_needed));
  return layer;
}

// Runs fn, putting "'file': layer N (...): " before any error it throws.
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

}  // namespace

std::string NetworkLayer::describe(size_t index) const {
  return "layer " + std::to_string(index) + " (" + type + (name.empty() ? "" : " '" + name + "'") + ")";
}

bool Network::describes(const SafeTensors& file) { return file.metadata.count(kNetworkKey) > 0; }

Network Network::from_safetensors(const SafeTensors& f) {
  Network net;
  net.source_ = f.source;
  const auto fail = [&](const std::string& why) { throw Error("'" + f.source + "': the layer list " + why); };
  json doc;
  try {
    const std::string& text = f.metadata.at(kNetworkKey);
    doc = parse_json_bounded(text.begin(), text.end(), "'" + f.source + "': the layer list");
  } catch (const std::out_of_range&) {
    fail("is missing: the file has no metadata key '" + std::string(kNetworkKey) + "'.");
  } catch (const json::exception& e) {
    std::string why = e.what();  // nlohmann quotes the last token read, which may be long
    if (why.size() > 160) why = why.substr(0, 160) + "...";
    fail("in metadata '" + std::string(kNetworkKey) + "' is not valid JSON (" + why + ").");
  }
  if (!doc.is_object() || doc.value("format", json()) != json(1))
    fail("must be a JSON object with \"format\": 1.");
  const json& input = doc.value("input", json());
  if (!input.is_array() || input.size() != 3) fail("needs \"input\": [C, H, W].");
  for (const json& d : input) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t{1} << 20))
      fail("has an \"input\" size that is not a positive whole number: " + json_excerpt(input) + ".");
    net.input_.push_back(d.get<int64_t>());
  }
  const json& layers = doc.value("layers", json());
  if (!layers.is_array() || layers.empty()) fail("needs a non-empty \"layers\" array.");
  for (size_t i = 0; i < layers.size(); ++i) {
    NetworkLayer peek;  // type and name, when readable, for the error message
    if (layers[i].is_object()) {
      peek.type = layers[i].value("type", json("?")).is_string() ? layers[i].value("type", "?") : "?";
      peek.name = layers[i].value("name", json("")).is_string() ? layers[i].value("name", "") : "";
    }
    const std::string where = layers[i].is_object() ? peek.describe(i + 1) : "layer " + std::to_string(i + 1);
    net.layers_.push_back(in_layer(f.source, where, [&] { return parse_layer(f, layers[i], net.maps_needed_); }));
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
  Shape item = net.input_;
  item.insert(item.begin(), 1);
  const NetworkTensors out = net.build(check, check.input("x", item));
  const Shape& result = check.shape(out.output);
  if (!net.labels_.empty() && (result.size() != 2 || result[1] != static_cast<int64_t>(net.labels_.size())))
    throw Error("'" + f.source + "' names " + std::to_string(net.labels_.size()) + " classes but the network's output is " +
                to_string(result) + ".");
  return net;
}

NetworkTensors Network::build(Graph& g, TensorId x, bool attention_maps) const {
  const Shape& shape = g.shape(x);
  require(shape.size() == 4 && Shape(shape.begin() + 1, shape.end()) == input_,
          "'" + source_ + "' takes input (B, " + std::to_string(input_[0]) + ", " + std::to_string(input_[1]) + ", " +
              std::to_string(input_[2]) + "), but the input is " + to_string(shape) + ".");
  NetworkTensors out;
  out.output = out.input = x;
  out.attention_maps = attention_maps;
  out.maps_needed = maps_needed_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const size_t nodes_before = g.nodes().size();
    out.output = in_layer(source_, layers_[i].describe(i + 1), [&] { return layers_[i].add(g, out.output, out); });
    // A named layer of one node gives it its name; a block names its own nodes after it.
    if (!layers_[i].name.empty() && g.nodes().size() == nodes_before + 1) g.name_node(out.output, layers_[i].name);
  }
  return out;
}

}  // namespace vkattn
