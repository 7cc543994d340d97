// How an op proves itself: each op unit's <unit>_check.cpp (engine/src/ops/<unit>/) registers
// its float64 CPU reference and the shapes it is checked on. The conformance suite and the tests
// both prepare cases through this one registry, so they share reference and case generator.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vkattn/context.h"
#include "vkattn/executor.h"
#include "vkattn/graph.h"

namespace vkattn::conformance {

// A case's sizes and options, e.g. {"B": 8, "rows": 37, "L": 257}; also its name in reports.
using Spec = nlohmann::ordered_json;
using Rng = std::mt19937_64;

// Reference values for graph outputs, by output name.
using Outputs = std::vector<std::pair<std::string, std::vector<double>>>;

// One case, ready to run: the graph, its inputs, and the reference for each named output,
// computed only after the GPU ran so that a skipped case costs nothing.
// An image-output case: graph output `output` is also written into a device image the suite
// makes as `options` describes (it fills in the handle, usage and flags), read back after the
// first run and compared with that output's tensor by compare_texels (image_check.h).
struct ImageCase {
  std::string output;
  ImageOutput options;
};

struct Prepared {
  Graph graph;
  std::vector<std::pair<std::string, HostTensor>> inputs;
  std::function<Outputs()> reference;
  double bound = 1e-5;  // relative error allowed against float64
  // The same with Precision::fp16. The suite then draws every random() value as a half, so the
  // inputs and weights are stored without loss and the error is the fp16 kernels' own: the
  // output rounded to half (2^-11 relative at most) and each intermediate a kernel stores between
  // its passes. 2e-3 covers one or two such roundings with sums in float32; an op that rounds
  // more, or whose function amplifies an intermediate's rounding (exp), states its own.
  double fp16_bound = 2e-3;
  std::optional<ImageCase> image;
};

struct MatrixOptions {
  bool quick = false;  // a smaller matrix that still touches every edge
  DeviceInfo device;
};

struct OpCheck {
  std::string op;  // the kernel name reports group cases under
  std::function<std::vector<Spec>(const MatrixOptions&)> matrix;
  std::function<Prepared(const Spec&, Rng&)> prepare;
};

class CheckRegistry {
 public:
  static const CheckRegistry& instance();
  void add(OpCheck check);
  const std::vector<OpCheck>& all() const { return checks_; }
  // The check of that op, or a vkattn::Error.
  const OpCheck& find(const std::string& op) const;

 private:
  std::vector<OpCheck> checks_;
};

// "softmax B=8 rows=37 L=257": the op and the spec's values in order (arrays as 3x3).
std::string case_name(const std::string& op, const Spec& spec);

// Uniform values in [lo, hi); each rounded to the nearest half while a DrawHalves lives on this
// thread (the suite's fp16 runs). A check that makes input values otherwise passes each through
// drawn(): a case whose inputs are not all halves is skipped at fp16, since the float64 reference
// of float32 values is not what an fp16 pass computes.
HostTensor random(Rng& rng, Shape shape, float lo = -1.f, float hi = 1.f);
float drawn(float v);
class DrawHalves {
 public:
  DrawHalves();
  ~DrawHalves();
  DrawHalves(const DrawHalves&) = delete;
  DrawHalves& operator=(const DrawHalves&) = delete;

 private:
  bool before_;
};
std::vector<double> widen(const std::vector<float>& v);
// A spec value: an integer, or a list of integers as a Shape.
int64_t integer(const Spec& spec, const char* key);
Shape shape(const Spec& spec, const char* key);

// Special values. A few small cases carry "special": "nan" or "inf" and put NaN, or +inf and
// -inf, into chosen input elements; the float64 references are plain IEEE arithmetic, so they
// give NaN and infinities where PyTorch does, with max_nan for max (std::max and max_element drop
// a NaN that comes second). The comparison takes NaN for NaN and an infinity for the same one.
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
// The spec's "special": "", "nan" or "inf".
std::string special(const Spec& spec);
// max(a, b), NaN if either is NaN (torch.max, max_pool2d, clamp_min).
double max_nan(double a, double b);
// The largest of [first, last), NaN if one is NaN, -inf if none.
double max_nan(const double* first, const double* last);
// `count` elements of t at random, for kind "nan" NaN, for "inf" +inf and -inf in turn; for ""
// none.
void sprinkle(HostTensor& t, const std::string& kind, int64_t count, Rng& rng);

}  // namespace vkattn::conformance
