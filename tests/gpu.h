// Shared by the GPU tests: one validated Context, random inputs, comparison with the reference.
#pragma once
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "vkattn/conformance.h"
#include "vkattn/vkattn.h"

namespace test {

// The spatial sizes every kernel is tested on: a single position, a prime-by-prime grid, and two
// squares (64x64 makes a (3, 4096, 4096) map that lavapipe must split over the batch).
struct Spatial {
  int64_t h, w;
};
inline const std::vector<Spatial> kSpatialShapes = {{1, 1}, {7, 13}, {32, 32}, {64, 64}};

// The test device, with the Khronos validation layer and synchronization validation on.
vkattn::Context& gpu();
// Every validation message since the process started.
const std::vector<std::string>& validation_messages();
// Options that send validation messages to the list above (for tests that make their own device).
vkattn::ContextOptions validated_options();

// Fails the current test if the validation layer spoke between construction and destruction.
class NoValidationMessages {
 public:
  NoValidationMessages() : before_(validation_messages().size()) {}
  ~NoValidationMessages();

 private:
  size_t before_;
};

// Fresh random values in [lo, hi): a new seed for every call.
std::vector<float> random_values(size_t count, float lo = -1.f, float hi = 1.f);
vkattn::HostTensor random_tensor(const vkattn::Shape& shape, float lo = -1.f, float hi = 1.f);
// A self-attention block with random weights and biases and a random gamma in [0.2, 1.5).
vkattn::SelfAttentionWeights random_weights(int64_t C, int64_t Cq, float scale = 1.f);

struct Error {
  double relative;  // ||out - ref|| / ||ref||
  double max_abs;
  bool finite;      // no NaN or Inf in out (a NaN means an element was never written)
};
Error compare(const std::vector<float>& out, const std::vector<double>& ref);

// Checks out against ref within a relative-error bound, reporting both error figures.
void check_close(const std::vector<float>& out, const std::vector<double>& ref, double bound = 1e-5);

// Runs each case through the op's conformance check on the test device (its float64 reference,
// NaN-filled outputs, two runs that must be bit-identical), each with fresh random inputs.
void check_op(const std::string& op, const std::vector<vkattn::conformance::Spec>& specs);

// A graph of one self-attention block on input "x" of that shape, with output "y".
vkattn::Graph block_graph(const vkattn::SelfAttentionWeights& weights, const vkattn::Shape& x);

// Runs a graph with NaN-filled outputs and returns the named output.
vkattn::HostTensor run_graph(const vkattn::Graph& graph, const std::vector<std::pair<std::string, vkattn::HostTensor>>& inputs,
                             const std::string& output);

// A network file (source "net.safetensors") holding that JSON description and these weights.
vkattn::SafeTensors network_file(const std::string& json, std::map<std::string, vkattn::HostTensor> tensors = {});
// A format-2 description: one input "x" of that item shape, the nodes (JSON objects, comma-separated),
// and the outputs (quoted names, comma-separated).
std::string graph_json(const vkattn::Shape& x, const std::string& nodes, const std::string& outputs = R"("y")");
// The sentence loading the file throws (vkattn::Error), or "no error".
std::string load_error(const vkattn::SafeTensors& file);

}  // namespace test
