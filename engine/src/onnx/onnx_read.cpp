#include "onnx/onnx_read.h"

#include <climits>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <onnx/checker.h>

#include "vkattn/error.h"
#include "vkattn/io.h"

namespace vkattn::onnx_import {
namespace {

using onnx::TensorProto;

// Bytes per element of the types a model may hold, 0 for those vkattn refuses (strings, complex).
size_t element_size(int32_t type) {
  switch (type) {
    case TensorProto::FLOAT: case TensorProto::INT32: case TensorProto::UINT32: return 4;
    case TensorProto::DOUBLE: case TensorProto::INT64: case TensorProto::UINT64: return 8;
    case TensorProto::FLOAT16: case TensorProto::BFLOAT16: case TensorProto::INT16: case TensorProto::UINT16: return 2;
    case TensorProto::INT8: case TensorProto::UINT8: case TensorProto::BOOL: return 1;
    default: return 0;
  }
}

// How many values a tensor of this type holds in its typed field (when it has no raw_data).
int64_t typed_count(const TensorProto& t) {
  switch (t.data_type()) {
    case TensorProto::FLOAT: return t.float_data_size();
    case TensorProto::DOUBLE: return t.double_data_size();
    case TensorProto::INT64: return t.int64_data_size();
    case TensorProto::UINT32: case TensorProto::UINT64: return t.uint64_data_size();
    default: return t.int32_data_size();
  }
}

std::string first_line(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '.')) line.pop_back();
  return line;
}

// Tensors stored outside the model: `location` relative to the model's folder and inside it
// (symbolic links resolved), a regular file, the byte range within it and of the tensor's size.
void read_external(TensorProto& t, const std::string& what, const std::string& file, const std::string& folder,
                   uint64_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& entry : t.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      else if (entry.key() == "offset") offset = std::stoll(entry.value());
      else if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (const std::exception&) {
      throw Error("'" + file + "': " + what + " gives its external " + entry.key() + " as '" + entry.value() +
                  "', not a number.");
    }
  }
  namespace fs = std::filesystem;
  const fs::path relative(location);
  bool escapes = location.empty() || relative.is_absolute();
  for (const auto& part : relative) escapes |= part == "..";
  if (escapes)
    throw Error("'" + file + "': " + what + " is stored in '" + location +
                "', which is not a file name inside the model's folder.");
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::path(folder), ec), path = fs::weakly_canonical(base / relative, ec);
  const auto [end, at] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
  if (ec || end != base.end() || at == path.end())
    throw Error("'" + file + "': " + what + " is stored in '" + location + "', which leads outside the model's folder.");
  if (!fs::is_regular_file(path, ec))
    throw Error("'" + file + "': " + what + " is stored in '" + location + "', which is not a file next to the model.");
  const std::string data = read_file(path.string());
  if (length < 0) length = int64_t(data.size()) - offset;
  if (offset < 0 || offset > int64_t(data.size()) || length > int64_t(data.size()) - offset || uint64_t(length) != bytes)
    throw Error("'" + file + "': " + what + " needs " + std::to_string(bytes) + " bytes at offset " +
                std::to_string(offset) + " of '" + location + "', which holds " + std::to_string(data.size()) + ".");
  t.set_raw_data(data.substr(size_t(offset), size_t(length)));
  t.clear_external_data();
  t.set_data_location(TensorProto::DEFAULT);
}

// A tensor the model stores: a type vkattn reads, dims >= 0, a bounded size, and exactly the
// data its dims need. libonnx reads these without checking (and crashes on short raw data).
void check_tensor(TensorProto& t, const std::string& what, const std::string& file,
                  const std::optional<std::string>& folder) {
  const size_t size = element_size(t.data_type());
  if (size == 0)
    throw Error("'" + file + "': " + what + " holds " + TensorProto::DataType_Name(TensorProto::DataType(t.data_type())) +
                " values, which vkattn does not read.");
  const int64_t count = element_count_of(t.dims());
  if (count < 0) throw Error("'" + file + "': " + what + " has a negative dimension or more than 2^31 elements.");
  const uint64_t bytes = uint64_t(count) * size;
  if (t.data_location() == TensorProto::EXTERNAL) {
    if (!folder)
      throw Error("'" + file + "': " + what + " is stored in a file outside the model, which a model read from memory "
                  "cannot reach.");
    read_external(t, what, file, *folder, bytes);
  }
  if (t.has_raw_data() ? t.raw_data().size() != bytes : typed_count(t) != count)
    throw Error("'" + file + "': " + what + " holds " +
                (t.has_raw_data() ? std::to_string(t.raw_data().size()) + " bytes" : std::to_string(typed_count(t)) + " values") +
                ", but " + TensorProto::DataType_Name(TensorProto::DataType(t.data_type())) + " of " +
                std::to_string(count) + " elements needs " +
                (t.has_raw_data() ? std::to_string(bytes) + " bytes" : std::to_string(count) + " values") + ".");
}

// Every tensor in the graph: initializers and node attributes; subgraphs and sparse tensors are
// refused (no op vkattn runs takes them).
void check_tensors(onnx::GraphProto& graph, const std::string& file, const std::optional<std::string>& folder) {
  if (graph.sparse_initializer_size() > 0)
    throw Error("'" + file + "' holds sparse initializers, which vkattn does not read.");
  for (auto& t : *graph.mutable_initializer()) check_tensor(t, "initializer '" + t.name() + "'", file, folder);
  for (int i = 0; i < graph.node_size(); ++i) {
    auto& node = *graph.mutable_node(i);
    const std::string label = node_label(node, i);
    for (auto& a : *node.mutable_attribute()) {
      const std::string what = label + "'s attribute '" + a.name() + "'";
      if (a.has_g() || a.graphs_size() > 0)
        throw Error("'" + file + "': " + label + " holds a subgraph, which vkattn does not run.");
      if (a.has_sparse_tensor() || a.sparse_tensors_size() > 0)
        throw Error("'" + file + "': " + what + " is a sparse tensor, which vkattn does not read.");
      if (a.has_t()) check_tensor(*a.mutable_t(), what, file, folder);
      for (auto& t : *a.mutable_tensors()) check_tensor(t, what, file, folder);
    }
  }
}

// The graph's inputs that are not initializers: float32 with a known rank and positive sizes.
void check_inputs(const onnx::GraphProto& graph, const std::string& file) {
  std::set<std::string> initializers;
  for (const auto& t : graph.initializer()) initializers.insert(t.name());
  for (const auto& input : graph.input()) {
    if (initializers.count(input.name())) continue;
    const std::string what = "'" + file + "': graph input '" + input.name() + "'";
    if (!input.type().has_tensor_type()) throw Error(what + " is not a tensor.");
    const auto& type = input.type().tensor_type();
    if (type.elem_type() != TensorProto::FLOAT)
      throw Error(what + " holds " + TensorProto::DataType_Name(TensorProto::DataType(type.elem_type())) +
                  " values; vkattn's inputs are float32 (give other values as initializers).");
    if (!type.has_shape()) throw Error(what + " has no shape.");
    if (type.shape().dim_size() == 0) throw Error(what + " is a scalar; vkattn's inputs have at least one dimension.");
    for (const auto& d : type.shape().dim())
      if (d.has_dim_value() && d.dim_value() < 1) throw Error(what + " has a dimension of size " + std::to_string(d.dim_value()) + ".");
  }
}

// Every value a node reads is made before it (by an input, an initializer or an earlier node),
// once; a value made by a later node means a cycle or nodes out of order, which ONNX forbids.
void check_dataflow(const onnx::GraphProto& graph, const std::string& file) {
  std::map<std::string, int> maker;  // value -> node index, -1 for inputs and initializers
  for (const auto& t : graph.initializer()) maker[t.name()] = -1;
  for (const auto& v : graph.input()) maker[v.name()] = -1;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string& out : graph.node(i).output()) {
      if (out.empty()) continue;
      if (!maker.emplace(out, i).second)
        throw Error("'" + file + "': " + node_label(graph.node(i), i) + " makes '" + out +
                    "', which an input, initializer or earlier node already makes.");
    }
  // A path from node `from` back to itself through the nodes that make what it reads.
  std::vector<int> state(graph.node_size(), 0);  // 0 unseen, 1 on the path, 2 done
  std::function<bool(int)> cycle = [&](int n) {
    if (state[n]) return state[n] == 1;
    state[n] = 1;
    for (const std::string& in : graph.node(n).input()) {
      const auto it = maker.find(in);
      if (it != maker.end() && it->second >= 0 && cycle(it->second)) return true;
    }
    state[n] = 2;
    return false;
  };
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string& in : graph.node(i).input()) {
      if (in.empty()) continue;  // an optional input left out
      const auto it = maker.find(in);
      const std::string label = node_label(graph.node(i), i);
      if (it == maker.end())
        throw Error("'" + file + "': " + label + " reads '" + in + "', which no input, initializer or node makes.");
      if (it->second >= i)
        throw Error("'" + file + "': " + label + " reads '" + in + "', made by a node after it" +
                    (cycle(i) ? ": the nodes form a cycle." : " (ONNX lists nodes in order)."));
    }
  for (const auto& out : graph.output())
    if (!maker.count(out.name())) throw Error("'" + file + "': graph output '" + out.name() + "' is made by nothing.");
}

}  // namespace

int64_t element_count_of(const google::protobuf::RepeatedField<int64_t>& dims) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && count > (int64_t{1} << 31) / d)) return -1;
    count *= d;
  }
  return count;
}

std::string node_label(const onnx::NodeProto& node, int index) {
  return "node " + std::to_string(index) + (node.name().empty() ? "" : " '" + node.name() + "'") + " (" +
         node.op_type() + ")";
}

int64_t opset_of(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return -1;
}

onnx::ModelProto read_model(std::string_view bytes, const std::string& file, const std::optional<std::string>& folder) {
  if (bytes.size() > size_t(INT_MAX)) throw Error("'" + file + "' is larger than the 2 GiB an ONNX model can be.");
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromArray(bytes.data(), int(bytes.size())))
    throw Error("'" + file + "' is not an ONNX model: its protobuf does not parse (truncated, or not ONNX).");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw Error("'" + file + "' is not an ONNX model with a graph: it has no nodes.");
  const int64_t opset = opset_of(model);
  if (opset < 0) throw Error("'" + file + "' imports no ONNX opset; vkattn reads opsets 11 to 17.");
  if (opset < kFirstOpset || opset > kLastOpset)
    throw Error("'" + file + "' uses ONNX opset " + std::to_string(opset) + "; vkattn reads opsets 11 to 17.");
  auto& graph = *model.mutable_graph();
  for (int i = 0; i < graph.node_size(); ++i)
    if (!graph.node(i).domain().empty() && graph.node(i).domain() != "ai.onnx")
      throw Error("'" + file + "': " + node_label(graph.node(i), i) + " is from the domain '" + graph.node(i).domain() +
                  "', which vkattn does not run.");
  check_tensors(graph, file, folder);
  check_inputs(graph, file);
  check_dataflow(graph, file);
  // ONNX's checker: each node against its op's schema. Not its shape inference: libonnx 1.12's
  // crashes on malformed convolutions (a null read in convPoolShapeInference, found by fuzz_onnx);
  // the converter computes every shape itself and the engine checks each layer's.
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error("'" + file + "' is not a valid ONNX model: " + first_line(e.what()) + ".");
  }
  return model;
}

}  // namespace vkattn::onnx_import
