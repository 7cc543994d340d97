// Any bytes as an ONNX model: either a vkattn::Error, or a network file whose graph builds (the
// loader's own checks run before libonnx's, which crashes on some malformed tensors).
#include <string>

#include "invariants.h"
#include "vkattn/error.h"
#include "vkattn/graph.h"
#include "vkattn/network.h"
#include "vkattn/onnx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const vkattn::SafeTensors file = vkattn::parse_onnx({reinterpret_cast<const char*>(data), size}, "input");
    for (const auto& [name, t] : file.tensors) fuzz::expect_whole(t);
    const vkattn::Network net = vkattn::Network::from_safetensors(file);
    vkattn::Graph graph;
    const vkattn::NetworkTensors out = net.build(graph, net.add_inputs(graph, net.implicit_batch() ? 1 : 3));
    fuzz::expect(out.outputs.size() == net.output_names().size(), "a named output is missing");
  } catch (const vkattn::Error&) {
  }
  return 0;
}
