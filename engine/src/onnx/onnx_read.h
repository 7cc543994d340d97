// An ONNX file's bytes to a ModelProto that the rest of the loader may trust: our own checks
// first (libonnx 1.12 crashes on some malformed tensors, and accepts sizes that disagree with
// shapes), external data read in from the model's folder only, then ONNX's checker (not its
// shape inference, which crashes on malformed files). Every refusal is one vkattn::Error
// sentence naming the file.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <onnx/onnx_pb.h>

namespace vkattn::onnx_import {

constexpr int64_t kFirstOpset = 11, kLastOpset = 17;

// `folder`: where external data may be read from (the model file's folder); without it a tensor
// stored outside the model is refused.
onnx::ModelProto read_model(std::string_view bytes, const std::string& source, const std::optional<std::string>& folder);

// The default-domain opset the model imports (checked by read_model to be within the range).
int64_t opset_of(const onnx::ModelProto& model);

// "node 12 '/conv1/Conv' (Conv)": how errors name a node.
std::string node_label(const onnx::NodeProto& node, int index);

// Elements of a tensor of these dims, or -1 if a dim is negative or the count passes 2^31.
int64_t element_count_of(const google::protobuf::RepeatedField<int64_t>& dims);

}  // namespace vkattn::onnx_import
