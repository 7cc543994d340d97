// An ONNX graph to a format-2 network (docs/network-format.md): each node becomes engine nodes, or,
// when all it reads is known at load, a constant computed on the host (onnx_fold.cpp). One
// conversion assumes one batch size (the probe): the shapes exporters compute from the input's
// shape are then numbers. onnx.cpp converts at two probes and requires the same file from both, so
// nothing in the file depends on the batch.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "onnx/host_array.h"
#include "vkattn/tensor.h"

namespace vkattn::onnx_import {

struct Converted {
  nlohmann::json network;                     // format 2
  std::map<std::string, HostTensor> weights;  // by the names the network uses
  std::vector<std::string> origins;           // for each network node, the ONNX node it comes from
};

// Where the batch sits in an ONNX value (views.h): dimension `dim` is split into (outer, batch,
// inner). The engine lays it out with the batch first: (batch, dims before, outer, inner, dims
// after), sizes of 1 left out.
struct BatchSplit {
  size_t dim = 0;
  int64_t outer = 1, inner = 1;
};

class Converter {
 public:
  // free_batch: the inputs' first dimensions are names, the engine's batch, `probe` in shapes.
  // first_dim: they are numbers, taken as the engine's batch (the same for every input).
  // implicit: every ONNX shape is one batch item (an engine batch of 1; the file says so).
  enum class Mode { free_batch, first_dim, implicit };
  Converter(const onnx::ModelProto& model, std::string file, Mode mode, int64_t probe);
  Converted run();

  // A value of the ONNX graph: a constant known at load, or one the engine computes, named in
  // the network file, with its ONNX shape (the batch, where it is free, at the probe size).
  struct Value {
    std::optional<HostArray> constant;
    std::string name;
    Shape shape;
    // A view (views.h): the engine value `name` is of engine_shape, and index gives each of
    // this value's elements in it. Null for a plain value, the engine value itself.
    std::shared_ptr<const HostArray> index = nullptr;
    Shape engine_shape = {};
  };

  // For the mappers (onnx_map.cpp, onnx_fold.cpp): the node being converted.
  const onnx::NodeProto& node() const { return *node_; }
  int64_t opset() const { return opset_; }
  int64_t probe() const { return probe_; }
  bool implicit_batch() const { return implicit_; }
  [[noreturn]] void refuse(const std::string& why) const;  // one sentence naming the file and node
  std::string label() const;  // "node 3 'a' (Conv, opset 17)"

  // Inputs: whether optional input i is given, the value, and a constant one (or a refusal
  // saying `what` must be constant).
  bool has_input(int i) const;
  const Value& input(int i) const;
  const Value& value(const std::string& name) const;  // any value converted so far
  const HostArray& constant_input(int i, const std::string& what) const;
  double scalar_input(int i, const std::string& what) const;  // a constant of one element
  bool all_inputs_constant() const;
  // Attributes, with defaults; a present attribute of another type is refused.
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name, const std::vector<int64_t>& fallback) const;
  bool has_attr(const std::string& name) const;
  const onnx::AttributeProto* attr(const std::string& name) const;

  // Outputs: output i of the node becomes this constant, or this engine value.
  void set_constant(int i, HostArray a);
  void set_value(int i, const std::string& name, Shape shape);
  void alias(int i, const Value& v);  // the node passes a value through
  bool output_used(int i) const;      // given a name that something reads or the graph outputs

  // Engine side. An axis of an activation of ONNX rank `rank` as the engine counts it (the batch
  // 0); the batch itself (where it is free) is refused, naming `what`.
  int64_t engine_axis(int64_t axis, size_t rank, const std::string& what) const;
  // The item shape (without the batch) the engine sees for this ONNX shape.
  Shape item_shape(const Shape& onnx_shape) const;
  // Adds a node of `type` reading `inputs` with `keys`, making a value of ONNX shape `shape`:
  // output i of the ONNX node when given, else an intermediate one. Returns the value's name.
  std::string emit(const std::string& type, const std::vector<std::string>& inputs, nlohmann::json keys,
                   const Shape& shape, std::optional<int> output = std::nullopt);
  // The node's next output-0 value is an engine value laid out by `split` (views.h) for an ONNX
  // value of `onnx_shape` with the output's last dimension: it becomes that view.
  void read_back(const Shape& onnx_shape, const BatchSplit& split) { read_back_ = {onnx_shape, split}; }
  // A fresh node name (the prefix of its weights) and a weight stored under `name`.
  std::string fresh_name();
  void add_weight(const std::string& name, const HostArray& a);
  HostTensor& weight(const std::string& name) { return weights_.at(name); }
  // The bias weight of each linear node made from a MatMul, by the node's output: an Add of a
  // constant right after it folds into it (torch writes nn.Linear on tokens as MatMul, Add).
  std::map<std::string, std::string> linear_bias;
  // The last node emitted, for folds that change its keys (a bias into the linear before it).
  nlohmann::json& last_node() { return nodes_.back(); }
  // How many nodes read value `name`, plus one if it is a graph output.
  int readers(const std::string& name) const;
  const std::string& onnx_output(int i) const { return node_->output(i); }

 private:
  void convert_node(int index);

  const onnx::GraphProto& graph_;
  std::string file_;
  Mode mode_;
  int64_t probe_;
  int64_t opset_;
  bool implicit_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> readers_;
  nlohmann::json nodes_ = nlohmann::json::array();
  std::vector<std::string> origins_;
  std::map<std::string, HostTensor> weights_;
  int fresh_ = 0;
  const onnx::NodeProto* node_ = nullptr;
  int node_index_ = 0;
  struct ReadBack {
    Shape onnx_shape;
    BatchSplit split;
  };
  std::optional<ReadBack> read_back_;
};

// A chain of nodes run as one engine op (patterns.cpp): the chain's nodes are skipped, and at
// `last` `emit` makes the chain's output (output 0 of the last node) from `input`. It may decline
// (false, having emitted nothing) once it sees the values: the chain's nodes then run one by one.
struct Pattern {
  int last = 0;
  std::set<int> nodes;
  std::string input;
  std::function<bool(Converter&)> emit;
};
std::map<int, Pattern> find_patterns(const onnx::GraphProto& graph, int64_t opset);

// Converts the current node when all it reads is constant and the op is one vkattn evaluates on
// the host; false otherwise (onnx_fold.cpp).
bool fold_node(Converter& c);
// Converts the current node into engine nodes, or refuses it (onnx_map.cpp).
void map_node(Converter& c);
// The op types map_node or fold_node take.
const std::set<std::string>& mapped_ops();

// An Einsum equation ("ij,jk->ik", spaces ignored) as its operands' terms and its output's; none
// without "->". Read by map_einsum and by the attention pattern (onnx_map.cpp).
struct EinsumTerms {
  std::vector<std::string> inputs;
  std::string output;
};
std::optional<EinsumTerms> einsum_terms(const std::string& equation);

}  // namespace vkattn::onnx_import
