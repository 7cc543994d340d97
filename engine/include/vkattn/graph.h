// A Graph describes a forward pass: named inputs, constant weights, and nodes (one kernel each)
// whose output shapes are inferred, and checked, as each node is added.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vkattn/tensor.h"

namespace vkattn {

using TensorId = uint32_t;
class Op;  // a kernel's host side (engine/src/ops)

class Graph {
 public:
  enum class Kind { Input, Weight, Intermediate };
  struct Tensor {
    std::string name;
    Shape shape;
    Kind kind;
    std::shared_ptr<const HostTensor> value;  // weights only
  };
  struct Node {
    std::shared_ptr<const Op> op;
    std::vector<TensorId> inputs, outputs;
    std::string name;  // "attn.fused" where a builder or network named it, else "<op>#<index>"
  };

  TensorId input(const std::string& name, Shape shape);
  TensorId weight(const std::string& name, HostTensor value);
  // The same, sharing values another graph already holds.
  TensorId weight(const std::string& name, std::shared_ptr<const HostTensor> value);
  // Marks a tensor as a result the caller can read back after a run.
  void output(const std::string& name, TensorId tensor);
  // Appends a node that reads `inputs` and writes new tensors of `output_shapes`, named after
  // `op_name`. The graph does not look inside the op: the ops' builders (vkattn::ops) infer and
  // check the shapes first.
  std::vector<TensorId> add_node(std::shared_ptr<const Op> op, const std::string& op_name,
                                 const std::vector<TensorId>& inputs, std::vector<Shape> output_shapes);

  // Names the node that computes `output` (benchmarks report time per node name).
  void name_node(TensorId output, const std::string& name);

  const Shape& shape(TensorId tensor) const { return tensors_.at(tensor).shape; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::map<std::string, TensorId>& inputs() const { return inputs_; }
  const std::map<std::string, TensorId>& outputs() const { return outputs_; }

 private:
  TensorId check(TensorId tensor) const;
  std::vector<Tensor> tensors_;
  std::vector<Node> nodes_;
  std::map<std::string, TensorId> inputs_, outputs_;
};

}  // namespace vkattn
