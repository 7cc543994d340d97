#include "gpu.h"

#include <cmath>
#include <limits>

namespace test {
namespace {
std::vector<std::string> messages;
}

const std::vector<std::string>& validation_messages() { return messages; }

vkattn::ContextOptions validated_options() {
  vkattn::ContextOptions options;
  options.validation = true;
  options.on_validation_message = [](const std::string& m) { messages.push_back(m); };
  return options;
}

vkattn::Context& gpu() {
  static vkattn::Context context = vkattn::Context::create(validated_options());
  return context;
}

NoValidationMessages::~NoValidationMessages() {
  for (size_t i = before_; i < messages.size(); ++i) FAIL_CHECK("validation message: " << messages[i]);
}

std::vector<float> random_values(size_t count, float lo, float hi) {
  static std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = u(rng);
  return v;
}

vkattn::HostTensor random_tensor(const vkattn::Shape& shape, float lo, float hi) {
  return {shape, random_values(vkattn::element_count(shape), lo, hi)};
}

vkattn::SelfAttentionWeights random_weights(int64_t C, int64_t Cq, float scale) {
  vkattn::SelfAttentionWeights w;
  w.channels = C;
  w.query_channels = Cq;
  w.query_weight = random_tensor({Cq, C}), w.query_bias = random_tensor({Cq});
  w.key_weight = random_tensor({Cq, C}), w.key_bias = random_tensor({Cq});
  w.value_weight = random_tensor({C, C}), w.value_bias = random_tensor({C});
  w.gamma = random_values(1, 0.2f, 1.5f)[0];
  w.scale = scale;
  return w;
}

Error compare(const std::vector<float>& out, const std::vector<double>& ref) {
  REQUIRE(out.size() == ref.size());
  double diff2 = 0, ref2 = 0, max_abs = 0;
  bool finite = true;
  for (size_t i = 0; i < out.size(); ++i) {
    finite &= std::isfinite(out[i]);
    const double d = out[i] - ref[i];
    diff2 += d * d;
    ref2 += ref[i] * ref[i];
    max_abs = std::max(max_abs, std::abs(d));
  }
  const double rel = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  return {rel, max_abs, finite};
}

void check_close(const std::vector<float>& out, const std::vector<double>& ref, double bound) {
  const Error e = compare(out, ref);
  INFO("relative error " << e.relative << ", max abs error " << e.max_abs << ", bound " << bound);
  CHECK(e.finite);
  CHECK(e.relative <= bound);
}

void check_op(const std::string& op, const std::vector<vkattn::conformance::Spec>& specs) {
  NoValidationMessages guard;
  for (const auto& spec : specs) {
    const auto r = vkattn::conformance::run_case(gpu(), op, spec);
    INFO(r.name << ": relative error " << r.relative << ", max abs error " << r.max_abs << ", bound " << r.bound
                << (r.reason.empty() ? std::string() : ", " + r.reason));
    CHECK(r.status == vkattn::conformance::Status::Passed);
  }
}

vkattn::HostTensor run_graph(const vkattn::Graph& graph,
                             const std::vector<std::pair<std::string, vkattn::HostTensor>>& inputs,
                             const std::string& output) {
  vkattn::Executor exec(gpu(), graph);
  for (const auto& [name, t] : inputs) exec.set_input(name, t);
  exec.fill_outputs(std::numeric_limits<float>::quiet_NaN());
  exec.run();
  return exec.output(output);
}

vkattn::Graph block_graph(const vkattn::SelfAttentionWeights& weights, const vkattn::Shape& x) {
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", x), weights).y);
  return g;
}

vkattn::SafeTensors network_file(const std::string& json, std::map<std::string, vkattn::HostTensor> tensors) {
  vkattn::SafeTensors f;
  f.source = "net.safetensors";
  f.metadata["vkattn.network"] = json;
  f.tensors = std::move(tensors);
  return f;
}

std::string graph_json(const vkattn::Shape& x, const std::string& nodes, const std::string& outputs) {
  std::string shape;
  for (int64_t d : x) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  return R"({"format": 2, "inputs": [{"name": "x", "shape": [)" + shape + R"(]}], "nodes": [)" + nodes +
         R"(], "outputs": [)" + outputs + "]}";
}

std::string load_error(const vkattn::SafeTensors& file) {
  try {
    vkattn::Network::from_safetensors(file);
  } catch (const vkattn::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace test
