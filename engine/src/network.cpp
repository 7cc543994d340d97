#include "vkattn/network.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "ops/op.h"

namespace vkattn {
namespace {

using json = nlohmann::json;
constexpr const char* kNetworkKey = "vkattn.network";

int64_t positive(const json& v, const std::string& what) {
  require(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= (int64_t{1} << 20),
          what + " must be a whole number from 0 to 2^20, but it is " + v.dump() + ".");
  return v.get<int64_t>();
}

// [h, w] or one number for both.
Size2 size2(const json& layer, const char* key, Size2 fallback) {
  if (!layer.contains(key)) return fallback;
  const json& v = layer[key];
  const std::string what = std::string("'") + key + "'";
  if (v.is_array()) {
    require(v.size() == 2, what + " must be [h, w] or one number, but it is " + v.dump() + ".");
    return {positive(v[0], what), positive(v[1], what)};
  }
  const int64_t n = positive(v, what);
  return {n, n};
}

void allow_keys(const json& layer, std::initializer_list<const char*> keys) {
  for (const auto& [key, value] : layer.items()) {
    bool known = key == "type";
    for (const char* k : keys) known |= key == k;
    require(known, "it has a key '" + key + "' that a " + layer["type"].get<std::string>() + " layer does not take.");
  }
}

const HostTensor& tensor(const SafeTensors& f, const std::string& name) {
  const auto it = f.tensors.find(name);
  require(it != f.tensors.end(), "the file holds no tensor called '" + name + "'.");
  return it->second;
}

NetworkLayer parse_layer(const SafeTensors& f, const json& j) {
  require(j.is_object() && j.contains("type") && j["type"].is_string(),
          "it must be an object with a \"type\", but it is " + j.dump() + ".");
  NetworkLayer layer;
  layer.type = j["type"].get<std::string>();
  if (j.contains("name")) {
    require(j["name"].is_string() && !j["name"].get<std::string>().empty(), "its \"name\" must be a non-empty string.");
    layer.name = j["name"].get<std::string>();
  }
  const auto& t = layer.type;
  if (t == "conv2d" || t == "linear" || t == "self_attention")
    require(!layer.name.empty(), "a " + t + " layer needs a \"name\": the prefix of its tensors.");
  if (t == "conv2d") {
    allow_keys(j, {"name", "stride", "padding"});
    layer.stride = size2(j, "stride", {1, 1});
    layer.padding = size2(j, "padding", {0, 0});
  } else if (t == "max_pool2d" || t == "avg_pool2d") {
    allow_keys(j, {"name", "kernel", "stride", "padding"});
    require(j.contains("kernel"), "a " + t + " layer needs a \"kernel\" size.");
    layer.kernel = size2(j, "kernel", {});
    layer.stride = size2(j, "stride", layer.kernel);
    layer.padding = size2(j, "padding", {0, 0});
  } else if (t == "self_attention") {
    allow_keys(j, {"name", "scale"});
    layer.attention = SelfAttentionWeights::from_safetensors(f, layer.name + ".");
    if (j.contains("scale")) {
      require(j["scale"].is_number(), "its \"scale\" must be a number.");
      layer.attention->scale = j["scale"].get<float>();
    }
  } else if (t == "relu" || t == "flatten" || t == "global_avg_pool2d" || t == "linear") {
    allow_keys(j, {"name"});
  } else {
    throw Error("its type '" + t + "' is not one vkattn runs (conv2d, relu, max_pool2d, avg_pool2d, "
                "global_avg_pool2d, flatten, linear, self_attention).");
  }
  if (t == "conv2d" || t == "linear") {
    layer.weight = tensor(f, layer.name + ".weight");
    layer.bias = tensor(f, layer.name + ".bias");
  }
  return layer;
}

// Adds one layer to the graph; ops check the shapes.
TensorId add_layer(Graph& g, const NetworkLayer& l, TensorId x, NetworkTensors& out) {
  const auto& t = l.type;
  if (t == "conv2d")
    return ops::conv2d(g, x, g.weight(l.name + ".weight", *l.weight), g.weight(l.name + ".bias", *l.bias), l.stride,
                       l.padding);
  if (t == "linear")
    return ops::linear(g, x, g.weight(l.name + ".weight", *l.weight), g.weight(l.name + ".bias", *l.bias));
  if (t == "relu") return ops::relu(g, x);
  if (t == "max_pool2d") return ops::max_pool2d(g, x, l.kernel, l.stride, l.padding);
  if (t == "avg_pool2d") return ops::avg_pool2d(g, x, l.kernel, l.stride, l.padding);
  if (t == "global_avg_pool2d") return ops::global_avg_pool2d(g, x);
  if (t == "flatten") return ops::flatten(g, x);
  // self_attention
  require(g.shape(x).size() == 4, "self_attention needs a (B, C, H, W) input, but it gets " + to_string(g.shape(x)) + ".");
  const auto block = add_self_attention(g, x, *l.attention, l.name + ".");
  out.attention.emplace_back(l.name, block.attention);
  return block.y;
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
    doc = json::parse(f.metadata.at(kNetworkKey));
  } catch (const std::out_of_range&) {
    fail("is missing: the file has no metadata key '" + std::string(kNetworkKey) + "'.");
  } catch (const json::exception& e) {
    fail("in metadata '" + std::string(kNetworkKey) + "' is not valid JSON (" + e.what() + ").");
  }
  if (!doc.is_object() || doc.value("format", json()) != json(1))
    fail("must be a JSON object with \"format\": 1.");
  const json& input = doc.value("input", json());
  if (!input.is_array() || input.size() != 3) fail("needs \"input\": [C, H, W].");
  for (const json& d : input) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t{1} << 20))
      fail("has an \"input\" size that is not a positive whole number: " + input.dump() + ".");
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
    net.layers_.push_back(in_layer(f.source, where, [&] { return parse_layer(f, layers[i]); }));
  }
  if (auto it = f.metadata.find("vkattn.labels"); it != f.metadata.end()) {
    const json labels = json::parse(it->second, nullptr, false);
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

NetworkTensors Network::build(Graph& g, TensorId x) const {
  const Shape& shape = g.shape(x);
  require(shape.size() == 4 && Shape(shape.begin() + 1, shape.end()) == input_,
          "'" + source_ + "' takes input (B, " + std::to_string(input_[0]) + ", " + std::to_string(input_[1]) + ", " +
              std::to_string(input_[2]) + "), but the input is " + to_string(shape) + ".");
  NetworkTensors out{x, {}};
  for (size_t i = 0; i < layers_.size(); ++i)
    out.output = in_layer(source_, layers_[i].describe(i + 1), [&] { return add_layer(g, layers_[i], out.output, out); });
  return out;
}

}  // namespace vkattn
