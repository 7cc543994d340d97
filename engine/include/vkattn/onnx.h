// ONNX models in: an .onnx file becomes the network file the rest of vkattn reads (a format-2
// graph and its weights), so an ONNX model runs through the same engine as an exported one.
#pragma once
#include <set>
#include <string>
#include <string_view>

#include "vkattn/io.h"

namespace vkattn {

// Whether this vkattn was built with ONNX support (Debian's libonnx-dev).
bool onnx_available();
// Reads and converts an .onnx file; tensors stored outside it are read from its folder only.
// Any problem (a malformed file, an op or attribute vkattn does not run) is one vkattn::Error.
SafeTensors load_onnx(const std::string& path);
// The same from bytes in memory (`source` names them in errors); external data is refused.
SafeTensors parse_onnx(std::string_view bytes, const std::string& source);
// The op types the loader takes (on values computed from the input, or only on constants).
std::set<std::string> onnx_ops();

// A model file of either kind: safetensors, or ONNX (by its name ending in .onnx, or its bytes).
SafeTensors load_model(const std::string& path);

}  // namespace vkattn
