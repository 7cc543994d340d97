#include "vkattn/graph.h"

#include "vkattn/error.h"

namespace vkattn {
namespace {

void require(bool ok, const std::string& sentence) {
  if (!ok) throw Error(sentence);
}

}  // namespace

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::optional<uint64_t> element_count_at_most(const Shape& shape, uint64_t limit) {
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && count > limit / static_cast<uint64_t>(d)) return std::nullopt;
    count *= static_cast<uint64_t>(d);
  }
  if (count > limit) return std::nullopt;
  return count;
}

std::string to_string(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

TensorId Graph::check(TensorId tensor) const {
  require(tensor < tensors_.size(), "Graph: tensor " + std::to_string(tensor) + " does not exist in this graph.");
  return tensor;
}

// Every size at least 1 and the element count at most 2^48 (1 PiB of floats, past any device),
// checked before it can wrap, so element_count() is exact for every tensor of a graph.
static void require_valid_shape(const std::string& name, const Shape& shape) {
  for (int64_t d : shape)
    require(d >= 1 && d <= (int64_t{1} << 31), "Tensor '" + name + "' has an invalid shape " + to_string(shape) + ".");
  require(element_count_at_most(shape, uint64_t{1} << 48).has_value(),
          "Tensor '" + name + "' of shape " + to_string(shape) + " has more elements than vkattn can address (2^48).");
}

TensorId Graph::input(const std::string& name, Shape shape) {
  require(!inputs_.count(name), "Graph: there is already an input called '" + name + "'.");
  require_valid_shape(name, shape);
  tensors_.push_back({name, std::move(shape), Kind::Input, nullptr});
  inputs_[name] = static_cast<TensorId>(tensors_.size() - 1);
  return inputs_[name];
}

TensorId Graph::weight(const std::string& name, HostTensor value) {
  return weight(name, std::make_shared<const HostTensor>(std::move(value)));
}

TensorId Graph::weight(const std::string& name, std::shared_ptr<const HostTensor> value) {
  require(value != nullptr, "Weight '" + name + "' has no values.");
  require_valid_shape(name, value->shape);
  require(static_cast<int64_t>(value->data.size()) == element_count(value->shape),
          "Weight '" + name + "' holds " + std::to_string(value->data.size()) + " values but its shape " +
              to_string(value->shape) + " needs " + std::to_string(element_count(value->shape)) + ".");
  Shape shape = value->shape;
  tensors_.push_back({name, std::move(shape), Kind::Weight, std::move(value)});
  return static_cast<TensorId>(tensors_.size() - 1);
}

void Graph::output(const std::string& name, TensorId tensor) {
  require(!outputs_.count(name), "Graph: there is already an output called '" + name + "'.");
  outputs_[name] = check(tensor);
}

std::vector<TensorId> Graph::add_node(std::shared_ptr<const Op> op, const std::string& op_name,
                                      const std::vector<TensorId>& inputs, std::vector<Shape> output_shapes) {
  for (TensorId t : inputs) check(t);
  Node node{std::move(op), inputs, {}, op_name + "#" + std::to_string(nodes_.size())};
  for (size_t i = 0; i < output_shapes.size(); ++i) {
    std::string name = op_name;
    name += '#';
    name += std::to_string(nodes_.size());
    if (i) name += '.' + std::to_string(i);
    require_valid_shape(name, output_shapes[i]);
    tensors_.push_back({name, std::move(output_shapes[i]), Kind::Intermediate, nullptr});
    node.outputs.push_back(static_cast<TensorId>(tensors_.size() - 1));
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().outputs;
}

void Graph::name_node(TensorId output, const std::string& name) {
  check(output);
  for (Node& node : nodes_)
    for (TensorId t : node.outputs)
      if (t == output) {
        node.name = name;
        return;
      }
  throw Error("Graph: tensor '" + tensors_[output].name + "' is not computed by a node, so it has no node to name.");
}

}  // namespace vkattn
