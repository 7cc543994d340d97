// A model file of either kind vkattn reads: safetensors (its own format) or ONNX.
#include <filesystem>
#include <fstream>

#include "vkattn/error.h"
#include "vkattn/onnx.h"

namespace vkattn {
namespace {

// ONNX by its name, or by bytes that start a protobuf (field 1, ir_version: 0x08) and not a
// safetensors header (an 8-byte length, then '{').
bool looks_like_onnx(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0) return true;
  // Only a regular file is peeked at (opening a FIFO would wait for a writer); read_file refuses
  // the others with its own sentence.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char head[9] = {};
  in.read(head, sizeof head);
  return in.gcount() == sizeof head && head[0] == 0x08 && head[8] != '{';
}

}  // namespace

SafeTensors load_model(const std::string& path) {
  if (!looks_like_onnx(path)) return load_safetensors(path);
  if (!onnx_available())
    throw Error("'" + path + "' is an ONNX model, and this vkattn was built without ONNX support (Debian's "
                "libonnx-dev and libprotobuf-dev); rebuild with them, or export the PyTorch module with vkattn.export.");
  return load_onnx(path);
}

#ifndef VKATTN_HAS_ONNX
bool onnx_available() { return false; }
SafeTensors load_onnx(const std::string& path) { return load_model(path); }
SafeTensors parse_onnx(std::string_view, const std::string& source) {
  throw Error("'" + source + "' is an ONNX model, and this vkattn was built without ONNX support.");
}
std::set<std::string> onnx_ops() { return {}; }
#endif

}  // namespace vkattn
