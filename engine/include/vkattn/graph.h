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
  };

  TensorId input(const std::string& name, Shape shape);
  TensorId weight(const std::string& name, HostTensor value);
  // Marks a tensor as a result the caller can read back after a run.
  void output(const std::string& name, TensorId tensor);
  // Appends a node; throws vkattn::Error if the inputs' shapes do not fit the op.
  std::vector<TensorId> add(std::shared_ptr<const Op> op, const std::vector<TensorId>& inputs);

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

// A contiguous run of channels of a (B, C, ...) tensor: how one stacked projection output is
// read as separate query, key and value tensors without a copy.
struct ChannelSlice {
  TensorId tensor;
  int64_t first = 0, count = 0;
};

// Builders for each op; all tensors float32, NCHW (or (B, C, N) for the attention ops).
namespace ops {
// 1x1 convolution: (B, C, H, W) x weight (M, C) or (M, C, 1, 1) + bias (M) -> (B, M, H, W).
TensorId projection(Graph& g, TensorId x, TensorId weight, TensorId bias);
// S[b, i, j] = scale * sum_c Q[b, c, i] K[b, c, j] -> (B, N, N), N = H*W.
TensorId scores(Graph& g, ChannelSlice query, ChannelSlice key, float scale);
// Softmax over the last dimension, numerically stable.
TensorId softmax(Graph& g, TensorId x);
// O[b, c, i] = sum_j V[b, c, j] A[b, i, j] -> (B, Cv, H, W) with V's spatial shape.
TensorId attend(Graph& g, ChannelSlice value, TensorId attention);
// y = gamma * o + x, gamma a one-element weight.
TensorId residual(Graph& g, TensorId o, TensorId x, TensorId gamma);
}  // namespace ops

}  // namespace vkattn
