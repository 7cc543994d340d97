// Where a forward pass's time goes, from `vkattn bench`'s timed runs: per node, per kernel, and
// how much of the wall time is barriers, small dispatches and the submission itself.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vkattn/executor.h"

// A dispatch shorter than this is mostly fixed cost (launch, the driver's per-dispatch work).
constexpr double kSmallDispatchMs = 0.1;

// runs: Executor::timings() of every timed run (the same nodes each time); wall_ms: each run's
// submit-to-fence time, in the same order. Times are medians over the runs.
nlohmann::ordered_json bench_breakdown(const std::vector<std::vector<vkattn::NodeTiming>>& runs,
                                       const std::vector<double>& wall_ms);

// The breakdown as tables for a terminal.
std::string bench_breakdown_text(const nlohmann::ordered_json& breakdown);
