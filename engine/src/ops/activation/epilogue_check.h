// The nodes a check may put after a convolution or linear layer, which the plan folds into its
// epilogue where the kernels can ("then": [...] in their specs), with their float64 references.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "vkattn/op_check.h"

namespace vkattn::conformance {

// An activation by name ("relu", "relu6", "hardswish", "hardsigmoid", "silu", "gelu", "gelu_tanh",
// "elu", "leaky_relu", "sigmoid", "tanh"): adds its node to `g` after `x`, and its float64
// function; or, for another name, an Error.
struct ActivationStep {
  std::function<TensorId(Graph&, TensorId)> build;
  std::function<double(double)> reference;
};
ActivationStep activation_step(const std::string& name);

// Every name activation_step takes.
const std::vector<std::string>& activation_step_names();

// Step `name` after value y of p's graph: "add" (a residual, p's input "r<i>" of y's shape, random
// values) or an activation_step name. The new value, and what the step does to the reference.
using ReferenceStep = std::function<void(std::vector<double>&)>;
std::pair<TensorId, ReferenceStep> then_step(Prepared& p, TensorId y, const std::string& name, size_t i, Rng& rng);

}  // namespace vkattn::conformance
