// stack against a copy made on the host: one tensor, several, items of one element and of many.
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"B", "k", "shape"}: k tensors of (B, shape...).
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), k = integer(s, "k");
  Shape item = shape(s, "shape");
  item.insert(item.begin(), B);
  Prepared p;
  std::vector<HostTensor> parts;
  std::vector<TensorId> ids;
  for (int64_t t = 0; t < k; ++t) {
    parts.push_back(random(rng, item));
    ids.push_back(p.graph.input("x" + std::to_string(t), item));
  }
  p.graph.output("y", ops::stack(p.graph, ids));
  p.reference = [=] {
    const int64_t E = element_count(item) / B;
    std::vector<double> y;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < k; ++t) y.insert(y.end(), parts[t].data.begin() + b * E, parts[t].data.begin() + (b + 1) * E);
    return Outputs{{"y", std::move(y)}};
  };
  for (int64_t t = 0; t < k; ++t) p.inputs.emplace_back("x" + std::to_string(t), parts[t]);
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"B", 1}, {"k", 1}, {"shape", {1}}}, {{"B", 3}, {"k", 4}, {"shape", {7, 7}}},
          {{"B", 2}, {"k", 3}, {"shape", {300, 1}}}};
}

}  // namespace

void register_stack_check(CheckRegistry& r) { r.add({"stack", matrix, prepare}); }

}  // namespace vkattn::conformance
