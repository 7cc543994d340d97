// The conformance suite: every kernel and the whole self-attention block over a matrix of shapes
// that stresses edges, each compared with a double-precision CPU reference and run twice, the two
// results required to be bit-identical: outputs are pre-filled with NaN in the first run and a
// number in the second, so an element never written fails even where NaN is expected. NaN and
// infinities must match the reference's exactly. Cases the device cannot hold or dispatch
// (vkattn::DeviceLimitError) are skipped with the reason.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vkattn/context.h"
#include "vkattn/op_check.h"

namespace vkattn::conformance {

enum class Status { Passed, Failed, Skipped };
const char* to_string(Status status);

struct Result {
  std::string kernel;     // "softmax"
  std::string name;       // kernel and shape, e.g. "softmax B=8 rows=37 L=257"
  std::string precision;  // "fp32" or "fp16" (ExecutorOptions::precision)
  Status status = Status::Skipped;
  double max_abs = 0, relative = 0, bound = 0;  // errors against the reference
  std::string reason;                           // why it failed or was skipped
  double seconds = 0;                           // wall time, both runs and the reference
  int outputs = 1;                              // graph outputs compared
};

struct Options {
  bool quick = false;        // a smaller matrix that still touches every kernel and edge
  std::string filter;        // run only cases whose name contains this text
  uint64_t seed = 0;         // 0: a fresh random seed
  // fp16: every case runs with tensors stored in 16 bits and is held to its fp16 bound.
  Precision precision = Precision::fp32;
  std::function<void(const Result&)> on_result;  // called as each case finishes
};

struct Report {
  DeviceInfo device;
  bool quick = false;
  Precision precision = Precision::fp32;
  uint64_t seed = 0;
  std::vector<Result> results;
  int passed = 0, failed = 0, skipped = 0;
};

// Runs every registered op's matrix.
Report run(Context& context, const Options& options);
// Runs one case of one op, the suite's check alone: tests use it with their own shapes.
// seed 0 draws a fresh one.
Result run_case(Context& context, const std::string& op, const Spec& spec, uint64_t seed = 0,
                Precision precision = Precision::fp32);
// The report as JSON: device, driver, API version, subgroup size, limits, and every case.
std::string to_json(const Report& report);
// A markdown page: the device, the summary line and the table.
std::string to_markdown(const Report& report);

}  // namespace vkattn::conformance
