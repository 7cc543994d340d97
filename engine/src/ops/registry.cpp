#include "ops/registry.h"
#include <cmath>

#include "json_bounded.h"
#include "ops/op.h"

namespace vkattn {

// One declaration and one call per op unit, from the list CMake writes (op_units.inc).
#define VKATTN_OP_UNIT(unit) void register_##unit(Registry&);
#include "op_units.inc"
#undef VKATTN_OP_UNIT

const Registry& Registry::instance() {
  static const Registry registry = [] {
    Registry r;
#define VKATTN_OP_UNIT(unit) register_##unit(r);
#include "op_units.inc"
#undef VKATTN_OP_UNIT
    return r;
  }();
  return registry;
}

void Registry::add(const std::string& op, std::optional<LayerType> layer) {
  if (!ops_.emplace(op, std::move(layer)).second) throw Error("Internal error: two ops are called '" + op + "'.");
}

const LayerType* Registry::layer(const std::string& type) const {
  const auto it = ops_.find(type);
  return it != ops_.end() && it->second ? &*it->second : nullptr;
}

std::vector<std::string> Registry::ops() const {
  std::vector<std::string> names;
  for (const auto& [name, layer] : ops_) names.push_back(name);
  return names;
}

std::string Registry::layer_names() const {
  std::string names;
  for (const auto& [name, layer] : ops_)
    if (layer) names += (names.empty() ? "" : ", ") + name;
  return names;
}

namespace {
int64_t whole(const nlohmann::json& v, const std::string& what) {
  require(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= (int64_t{1} << 20),
          what + " must be a whole number from 0 to 2^20, but it is " + json_excerpt(v) + ".");
  return v.get<int64_t>();
}
}  // namespace

Size2 LayerSpec::size2(const char* key, Size2 fallback) const {
  if (!layer_.contains(key)) return fallback;
  const nlohmann::json& v = layer_[key];
  const std::string what = std::string("'") + key + "'";
  if (v.is_array()) {
    require(v.size() == 2, what + " must be [h, w] or one number, but it is " + json_excerpt(v) + ".");
    return {whole(v[0], what), whole(v[1], what)};
  }
  const int64_t n = whole(v, what);
  return {n, n};
}

float LayerSpec::number(const char* key, float fallback) const {
  if (!layer_.contains(key)) return fallback;
  const nlohmann::json& v = layer_[key];
  require(v.is_number() && std::isfinite(v.get<double>()),
          std::string("its \"") + key + "\" must be a number, but it is " + json_excerpt(v) + ".");
  return v.get<float>();
}

int64_t LayerSpec::integer(const char* key, int64_t fallback) const {
  if (!layer_.contains(key)) return fallback;
  return whole(layer_[key], std::string("its \"") + key + "\"");
}

namespace {
int64_t signed_whole(const nlohmann::json& v, const std::string& what) {
  require(v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t(INT64_MAX)),
          what + " must be a whole number, but it is " + json_excerpt(v) + ".");
  return v.get<int64_t>();
}
}  // namespace

int64_t LayerSpec::signed_integer(const char* key, int64_t fallback) const {
  if (!layer_.contains(key)) return fallback;
  return signed_whole(layer_[key], std::string("its \"") + key + "\"");
}

std::vector<int64_t> LayerSpec::integers(const char* key) const {
  const std::string what = std::string("its \"") + key + "\"";
  require(layer_.contains(key), "it needs " + what.substr(4) + ".");
  const nlohmann::json& v = layer_[key];
  if (!v.is_array()) return {signed_whole(v, what)};
  require(v.size() <= 64, what + " must be a list of at most 64 whole numbers, but it has " + std::to_string(v.size()) + ".");
  std::vector<int64_t> out;
  for (const nlohmann::json& e : v) out.push_back(signed_whole(e, what + "'s entries"));
  return out;
}

std::array<double, 2> LayerSpec::reals2(const char* key, std::array<double, 2> fallback) const {
  if (!layer_.contains(key)) return fallback;
  const nlohmann::json& v = layer_[key];
  const std::string what = std::string("its \"") + key + "\" must be [h, w] or one positive number, but it is " +
                           json_excerpt(v) + ".";
  const auto real = [&](const nlohmann::json& e) {
    require(e.is_number() && std::isfinite(e.get<double>()) && e.get<double>() > 0, what);
    return e.get<double>();
  };
  if (!v.is_array()) return {real(v), real(v)};
  require(v.size() == 2, what);
  return {real(v[0]), real(v[1])};
}

bool LayerSpec::flag(const char* key, bool fallback) const {
  if (!layer_.contains(key)) return fallback;
  const nlohmann::json& v = layer_[key];
  require(v.is_boolean(), std::string("its \"") + key + "\" must be true or false, but it is " + json_excerpt(v) + ".");
  return v.get<bool>();
}

std::string LayerSpec::text(const char* key, const std::string& fallback) const {
  if (!layer_.contains(key)) return fallback;
  const nlohmann::json& v = layer_[key];
  require(v.is_string(), std::string("its \"") + key + "\" must be a string, but it is " + json_excerpt(v) + ".");
  return v.get<std::string>();
}

const HostTensor& LayerSpec::tensor(const std::string& suffix) const {
  const std::string full = name() + "." + suffix;
  const auto it = file_.tensors.find(full);
  require(it != file_.tensors.end(), "the file holds no tensor called '" + full + "'.");
  return it->second;
}

}  // namespace vkattn
