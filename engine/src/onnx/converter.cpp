#include "onnx/converter.h"

#include "onnx/onnx_read.h"
#include "onnx/views.h"
#include "vkattn/error.h"

namespace vkattn::onnx_import {

using nlohmann::json;

Converter::Converter(const onnx::ModelProto& model, std::string file, Mode mode, int64_t probe)
    : graph_(model.graph()),
      file_(std::move(file)),
      mode_(mode),
      probe_(probe),
      opset_(opset_of(model)),
      implicit_(mode == Mode::implicit) {}

std::string Converter::label() const {
  std::string label = node_label(*node_, node_index_);
  return label.insert(label.size() - 1, ", opset " + std::to_string(opset_));
}

void Converter::refuse(const std::string& why) const { throw Error("'" + file_ + "', " + label() + ": " + why); }

bool Converter::has_input(int i) const { return i < node_->input_size() && !node_->input(i).empty(); }

const Converter::Value& Converter::input(int i) const {
  if (!has_input(i)) refuse("its input " + std::to_string(i) + " is missing.");
  return values_.at(node_->input(i));
}

const Converter::Value& Converter::value(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) refuse("it reads '" + name + "', which is not computed before it.");
  return it->second;
}

const HostArray& Converter::constant_input(int i, const std::string& what) const {
  const Value& v = input(i);
  if (!v.constant) refuse("its " + what + " is computed from the model's input; vkattn needs it known when it loads.");
  return *v.constant;
}

double Converter::scalar_input(int i, const std::string& what) const {
  const HostArray& k = constant_input(i, what);
  if (k.count() != 1) refuse("its " + what + " is not one number.");
  return k.values[0];
}

bool Converter::all_inputs_constant() const {
  for (int i = 0; i < node_->input_size(); ++i)
    if (has_input(i) && !values_.at(node_->input(i)).constant) return false;
  return true;
}

const onnx::AttributeProto* Converter::attr(const std::string& name) const {
  for (const auto& a : node_->attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

bool Converter::has_attr(const std::string& name) const { return attr(name) != nullptr; }

int64_t Converter::attr_int(const std::string& name, int64_t fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT) refuse("its attribute '" + name + "' is not an integer.");
  return a->i();
}

float Converter::attr_float(const std::string& name, float fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT) refuse("its attribute '" + name + "' is not a number.");
  return a->f();
}

std::string Converter::attr_string(const std::string& name, const std::string& fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING) refuse("its attribute '" + name + "' is not a string.");
  return a->s();
}

std::vector<int64_t> Converter::attr_ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INTS) refuse("its attribute '" + name + "' is not a list of integers.");
  return {a->ints().begin(), a->ints().end()};
}

void Converter::set_constant(int i, HostArray a) {
  if (i < node_->output_size() && !node_->output(i).empty()) values_[node_->output(i)] = {std::move(a), "", {}};
}

void Converter::set_value(int i, const std::string& name, Shape shape) {
  if (i < node_->output_size() && !node_->output(i).empty()) values_[node_->output(i)] = {std::nullopt, name, std::move(shape)};
}

void Converter::alias(int i, const Value& v) {
  if (i < node_->output_size() && !node_->output(i).empty()) values_[node_->output(i)] = v;
}

bool Converter::output_used(int i) const {
  return i < node_->output_size() && !node_->output(i).empty() && readers(node_->output(i)) > 0;
}

int Converter::readers(const std::string& name) const {
  const auto it = readers_.find(name);
  return it == readers_.end() ? 0 : it->second;
}

int64_t Converter::engine_axis(int64_t axis, size_t rank, const std::string& what) const {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r) refuse("its " + what + " " + std::to_string(axis) + " is outside a rank-" + std::to_string(r) + " value.");
  if (axis < 0) axis += r;
  if (implicit_) return axis + 1;
  if (axis == 0)
    refuse("it works along axis 0, the batch (the model's inputs leave it free), which vkattn keeps apart.");
  return axis;
}

Shape Converter::item_shape(const Shape& onnx_shape) const {
  return implicit_ ? onnx_shape : Shape(onnx_shape.begin() + 1, onnx_shape.end());
}

std::string Converter::fresh_name() { return "n" + std::to_string(fresh_++); }

void Converter::add_weight(const std::string& name, const HostArray& a) { weights_[name] = a.to_tensor(); }

std::string Converter::emit(const std::string& type, const std::vector<std::string>& inputs, json keys,
                            const Shape& shape, std::optional<int> output) {
  const std::string name = output && *output < node_->output_size() && !node_->output(*output).empty()
                               ? node_->output(*output)
                               : "~" + std::to_string(fresh_++);
  keys["type"] = type;
  keys["inputs"] = inputs;
  keys["output"] = name;
  nodes_.push_back(std::move(keys));
  origins_.push_back(label());
  if (output && *output == 0 && read_back_) {
    Shape onnx = read_back_->onnx_shape;
    onnx.back() = shape.back();
    alias(0, make_view(name, shape, split_index(onnx, read_back_->split, shape[0])));
    read_back_.reset();
  } else if (output) {
    set_value(*output, name, shape);
  }
  return name;
}

void Converter::convert_node(int index) {
  node_ = &graph_.node(index);
  node_index_ = index;
  read_back_.reset();
  if (!mapped_ops().count(node_->op_type()))
    refuse("vkattn does not run this op (it runs " + std::to_string(mapped_ops().size()) +
           ": see vkattn.onnx_ops() or docs/onnx-conformance.md).");
  if (!fold_node(*this)) map_node(*this);
  for (int i = 0; i < node_->output_size(); ++i)
    if (!node_->output(i).empty() && !values_.count(node_->output(i)) && readers(node_->output(i)) > 0)
      refuse("vkattn does not compute its output " + std::to_string(i) + " ('" + node_->output(i) + "').");
}

Converted Converter::run() {
  std::set<std::string> initializers;
  for (const auto& t : graph_.initializer()) {
    values_[t.name()] = {from_tensor(t), "", {}};
    initializers.insert(t.name());
  }
  for (const auto& n : graph_.node())
    for (const std::string& in : n.input()) ++readers_[in];
  for (const auto& out : graph_.output()) ++readers_[out.name()];
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : graph_.input())
    if (!initializers.count(in.name())) inputs.push_back(&in);
  if (inputs.empty()) throw Error("'" + file_ + "' has no inputs that are not initializers: it computes a constant.");
  if (mode_ == Mode::first_dim)
    for (const auto* in : inputs)
      if (in->type().tensor_type().shape().dim(0).dim_value() != inputs[0]->type().tensor_type().shape().dim(0).dim_value())
        throw Error("'" + file_ + "': its inputs' first dimensions differ, so they are not one batch.");
  json network = {{"format", 2}, {"inputs", json::array()}, {"outputs", json::array()}};
  if (implicit_) network["batch"] = "implicit";
  for (const auto* in : inputs) {
    Shape shape;
    for (const auto& d : in->type().tensor_type().shape().dim()) {
      if (!d.has_dim_value() && !shape.empty())
        throw Error("'" + file_ + "': graph input '" + in->name() + "' has a size '" + d.dim_param() +
                    "' beyond its first dimension; vkattn needs every size but the batch to be a number.");
      shape.push_back(d.has_dim_value() ? d.dim_value() : probe_);
      if (mode_ == Mode::free_batch && shape.size() == 1 && d.has_dim_value())
        throw Error("'" + file_ + "': graph input '" + in->name() + "' has a fixed first dimension among inputs whose batch is free.");
    }
    values_[in->name()] = {std::nullopt, in->name(), shape};
    network["inputs"].push_back({{"name", in->name()}, {"shape", item_shape(shape)}});
  }
  const std::map<int, Pattern> patterns = find_patterns(graph_, opset_);
  std::set<int> inside;
  for (const auto& [last, p] : patterns) inside.insert(p.nodes.begin(), p.nodes.end());
  for (int i = 0; i < graph_.node_size(); ++i) {
    if (const auto it = patterns.find(i); it != patterns.end()) {
      node_ = &graph_.node(i);
      node_index_ = i;
      if (!it->second.emit(*this))
        for (int n : it->second.nodes) convert_node(n);  // in graph order: their inputs come first
    } else if (!inside.count(i)) {
      convert_node(i);
    }
  }
  for (const auto& out : graph_.output()) {
    const Value v = values_.at(out.name()).index ? plain(*this, values_.at(out.name())) : values_.at(out.name());
    if (v.constant) throw Error("'" + file_ + "': graph output '" + out.name() + "' does not depend on the inputs.");
    if (v.name != out.name()) {
      // The output is another value passed through (Identity, even of an input): a copy under
      // the output's name.
      nodes_.push_back({{"type", "reshape"}, {"inputs", {v.name}}, {"output", out.name()}, {"shape", item_shape(v.shape)}});
      origins_.push_back("graph output '" + out.name() + "'");
    }
    network["outputs"].push_back(out.name());
  }
  network["nodes"] = std::move(nodes_);
  return {std::move(network), std::move(weights_), std::move(origins_)};
}

}  // namespace vkattn::onnx_import
