// The conformance suite passes on this device and catches a planted bug.
#include <memory>

#include "context_impl.h"
#include "gpu.h"
#include "ops/op.h"
#include "softmax_drops_last_column.spv.h"

namespace {

vkattn::conformance::Report run_softmax_cases(vkattn::Context& ctx) {
  vkattn::conformance::Options options;
  options.quick = true;
  options.filter = "softmax B=1 rows=37";
  return vkattn::conformance::run(ctx, options);
}

}  // namespace

TEST_CASE("conformance: the softmax cases pass with the real kernel") {
  test::NoValidationMessages guard;
  const auto report = run_softmax_cases(test::gpu());
  CHECK(report.passed >= 5);
  CHECK(report.failed == 0);
  CHECK(report.passed + report.failed + report.skipped == int(report.results.size()));
}

TEST_CASE("conformance: a softmax that drops the last column fails, and says why") {
  test::NoValidationMessages guard;
  vkattn::Context ctx = vkattn::Context::create(test::validated_options());
  // Plant the bug: the pipeline cache already holds kernels called "softmax" and "softmax_rows"
  // (long and short rows), so the executor uses them instead of building the real ones.
  auto& impl = ctx.impl();
  const uint32_t push_bytes = sizeof(vkattn::PushHeader) + 2 * sizeof(uint32_t);
  for (const char* name : {"softmax", "softmax_rows"})
    impl.kernels.emplace(name, std::make_unique<vkattn::Kernel>(impl.device, impl.info, impl.pipeline_cache, name,
                                                                softmax_drops_last_column_spv, push_bytes));

  const auto report = run_softmax_cases(ctx);
  REQUIRE(!report.results.empty());
  for (const auto& r : report.results) {
    CAPTURE(r.name);
    CHECK(r.status == vkattn::conformance::Status::Failed);
    CHECK(r.reason.find("never written") != std::string::npos);
  }
  CHECK(report.failed == int(report.results.size()));
}

TEST_CASE("conformance: a case the device cannot hold is skipped with the reason") {
  test::NoValidationMessages guard;
  vkattn::conformance::Options options;
  options.quick = true;
  options.filter = "scores B=1 Cq=1 N=16384";  // a 1 GiB map
  const auto report = vkattn::conformance::run(test::gpu(), options);
  REQUIRE(report.results.size() == 1);
  const auto& r = report.results[0];
  if (test::gpu().device().max_storage_buffer_range < (uint64_t{1} << 30)) {
    CHECK(r.status == vkattn::conformance::Status::Skipped);
    CHECK(r.reason.find("maxStorageBufferRange") != std::string::npos);
  } else {
    CHECK(r.status == vkattn::conformance::Status::Passed);
  }
}

TEST_CASE("conformance: the JSON report records the device and every case") {
  vkattn::conformance::Report report;
  report.device = test::gpu().device();
  report.results.push_back({"flatten", "flatten shape=1x1", "fp32", vkattn::conformance::Status::Passed, 0, 0, 1e-5, "", 0.1});
  report.passed = 1;
  const std::string json = vkattn::conformance::to_json(report);
  for (const char* key : {"\"name\"", "\"vendor_id\"", "\"device_id\"", "\"driver_name\"", "\"driver_version\"",
                          "\"vulkan_api_version\"", "\"subgroup_size\"", "\"maxStorageBufferRange\"",
                          "\"maxComputeWorkGroupCount\"", "\"maxComputeSharedMemorySize\"", "\"maxMemoryAllocationSize\"",
                          "flatten shape=1x1", "\"passed\": 1"})
    CHECK_MESSAGE(json.find(key) != std::string::npos, key);
  CHECK(vkattn::conformance::to_markdown(report).find("1 passed, 0 failed, 0 skipped") != std::string::npos);
}
