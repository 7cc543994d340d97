#include "vkattn/conformance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <random>

#include "device_image.h"
#include "half_float.h"
#include "vkattn/error.h"
#include "vkattn/executor.h"
#include "vkattn/image_check.h"

namespace vkattn::conformance {
namespace {

// Every output of one run, filled with `fill` first. The first run fills NaN, so that an element
// never written cannot pass the comparison; the second a number, so that one whose expected value
// is NaN cannot pass either: the two runs then differ.
std::vector<std::vector<float>> run_once(Executor& exec, const Prepared& p, const std::vector<std::string>& outputs,
                                         float fill) {
  for (const auto& [name, t] : p.inputs) exec.set_input(name, t);
  exec.fill_outputs(fill);
  exec.run();
  std::vector<std::vector<float>> out;
  for (const std::string& name : outputs) out.push_back(exec.output(name).data);
  return out;
}

// Compares one output with its reference; false (with the reason) if it is off or unwritten. NaN
// and infinities must match exactly (NaN for NaN, an infinity for the same one, as PyTorch gives
// them); the error figures are over the elements whose reference is finite.
// floor: the smallest magnitude each reference value counts as in the norm (0, or half's smallest
// normal 2^-14 at fp16, below which half's spacing is a fixed 2^-24 and no longer relative).
bool compare(Result& r, const std::string& name, const std::vector<float>& out, const std::vector<double>& ref,
             double floor) {
  const std::string which = r.outputs > 1 ? "output '" + name + "': " : "";
  if (ref.size() != out.size()) {
    r.reason = which + "the output has " + std::to_string(out.size()) + " elements, the reference " + std::to_string(ref.size());
    return false;
  }
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i]) || !std::isfinite(ref[i])) {
      if (std::isnan(ref[i]) ? std::isnan(out[i]) : double(out[i]) == ref[i]) continue;
      r.max_abs = r.relative = std::numeric_limits<double>::infinity();
      r.reason = which + "element " + std::to_string(i) + " is " + std::to_string(out[i]) + " where the reference is " +
                 std::to_string(ref[i]) + (std::isfinite(ref[i]) ? " (never written, lost, or overflow)" : "");
      return false;
    }
    const double d = out[i] - ref[i];
    diff += d * d;
    norm += std::max(ref[i] * ref[i], floor * floor);
    r.max_abs = std::max(r.max_abs, std::abs(d));
  }
  r.relative = std::max(r.relative, norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff));
  if (r.relative <= r.bound) return true;
  r.reason = which + "relative error above the bound";
  return false;
}

// At fp16, why the case says nothing about the fp16 kernels: inputs that half cannot hold (its
// float64 reference is of other values than the pass computes on), or an empty string.
std::string outside_half(const Prepared& p) {
  for (const auto& [name, t] : p.inputs)
    for (float v : t.data)
      if (std::isfinite(v) && half_to_float(float_to_half(v)) != v)
        return "input '" + name + "' holds float32 values that half cannot hold (" + std::to_string(v) + ")";
  return "";
}

// Half's largest finite value: a reference beyond it is infinite at fp16.
constexpr double kHalfMax = 65504;

void check(Result& r, Context& ctx, const Prepared& p, Precision precision) {
  if (precision == Precision::fp16) {
    if (r.reason = outside_half(p); !r.reason.empty()) return;  // skipped
  }
  std::vector<std::string> outputs;
  for (const auto& [name, id] : p.graph.outputs()) outputs.push_back(name);
  r.outputs = static_cast<int>(outputs.size());
  std::optional<Executor> exec;
  std::optional<DeviceImage> image;
  try {
    ExecutorOptions options;
    options.precision = precision;
    if (p.image) {
      image.emplace(ctx, p.image->options);
      options.image_outputs[p.image->output] = image->output();
    }
    exec.emplace(ctx, p.graph, options);
  } catch (const DeviceLimitError& e) {
    r.status = Status::Skipped;
    r.reason = e.what();
    return;
  }
  constexpr float kSecondFill = 1234.5f;
  const auto first = run_once(*exec, p, outputs, std::numeric_limits<float>::quiet_NaN());
  const std::vector<unsigned char> texels = image ? image->read() : std::vector<unsigned char>();
  const auto second = run_once(*exec, p, outputs, kSecondFill);
  exec.reset();
  r.status = Status::Failed;
  for (size_t o = 0; o < outputs.size(); ++o)
    if (std::memcmp(first[o].data(), second[o].data(), first[o].size() * sizeof(float)) != 0) {
      size_t i = 0;
      while (std::memcmp(&first[o][i], &second[o][i], sizeof(float)) == 0) ++i;
      if (std::isnan(first[o][i]) && second[o][i] == kSecondFill)
        r.reason = "element " + std::to_string(i) + " of '" + outputs[o] + "' is never written (it keeps the fill of each run)";
      else
        r.reason = "the two runs of '" + outputs[o] + "' differ at element " + std::to_string(i) + " (" +
                   std::to_string(first[o][i]) + " vs " + std::to_string(second[o][i]) + "): a race";
      return;
    }
  const auto refs = p.reference();
  if (precision == Precision::fp16)
    for (const auto& [name, ref] : refs)
      if (std::any_of(ref.begin(), ref.end(), [](double v) { return std::isfinite(v) && std::abs(v) > kHalfMax; })) {
        r.status = Status::Skipped;
        r.reason = "the reference of '" + name + "' exceeds half's range (65504)";
        return;
      }
  for (const auto& [name, ref] : refs) {
    const auto at = std::find(outputs.begin(), outputs.end(), name);
    if (at == outputs.end()) throw Error("Internal error: the reference names an output '" + name + "' the graph lacks.");
    if (!compare(r, name, first[at - outputs.begin()], ref, precision == Precision::fp16 ? std::ldexp(1.0, -14) : 0.0))
      return;
  }
  if (image) {  // the image must hold what the first run's tensor maps to
    const auto at = std::find(outputs.begin(), outputs.end(), p.image->output);
    const std::string wrong = compare_texels(image->output(), p.graph.shape(p.graph.outputs().at(p.image->output)),
                                             first[at - outputs.begin()], texels.data());
    if (!wrong.empty()) {
      r.reason = "image texel at " + wrong;
      return;
    }
  }
  if (refs.size() == outputs.size()) r.status = Status::Passed;
  else r.reason = "the reference covers " + std::to_string(refs.size()) + " of " + std::to_string(outputs.size()) + " outputs";
}

// Prepares and checks one case, turning limits and errors into a skip or a failure.
Result check_case(Context& ctx, const OpCheck& op, const Spec& spec, Rng& rng, Precision precision) {
  const bool fp16 = precision == Precision::fp16;
  Result r{op.op, case_name(op.op, spec), to_string(precision), Status::Skipped, 0, 0, 0, "", 0, 1};
  const auto start = std::chrono::steady_clock::now();
  try {
    std::optional<DrawHalves> halves;
    if (fp16) halves.emplace();
    const Prepared p = op.prepare(spec, rng);
    halves.reset();
    r.bound = fp16 ? p.fp16_bound : p.bound;
    check(r, ctx, p, precision);
  } catch (const DeviceLimitError& e) {
    r.status = Status::Skipped;
    r.reason = e.what();
  } catch (const std::bad_alloc&) {
    r.status = Status::Skipped;
    r.reason = "the host ran out of memory for the inputs or the reference";
  } catch (const Error& e) {
    r.status = Status::Failed;
    r.reason = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

uint64_t fresh_seed() { return std::random_device{}() | uint64_t(std::random_device{}()) << 32; }

}  // namespace

const char* to_string(Status s) {
  return s == Status::Passed ? "pass" : s == Status::Failed ? "FAIL" : "skip";
}

Report run(Context& ctx, const Options& options) {
  Report report;
  report.device = ctx.device();
  report.quick = options.quick;
  report.precision = options.precision;
  report.seed = options.seed ? options.seed : fresh_seed();
  Rng rng(report.seed);
  for (const OpCheck& op : CheckRegistry::instance().all())
    for (const Spec& spec : op.matrix({options.quick, report.device})) {
      if (!options.filter.empty() && case_name(op.op, spec).find(options.filter) == std::string::npos) continue;
      const Result r = check_case(ctx, op, spec, rng, options.precision);
      (r.status == Status::Passed ? report.passed : r.status == Status::Failed ? report.failed : report.skipped)++;
      report.results.push_back(r);
      if (options.on_result) options.on_result(r);
    }
  return report;
}

Result run_case(Context& ctx, const std::string& op, const Spec& spec, uint64_t seed, Precision precision) {
  Rng rng(seed ? seed : fresh_seed());
  return check_case(ctx, CheckRegistry::instance().find(op), spec, rng, precision);
}

}  // namespace vkattn::conformance
