#include "liveness.h"

#include <algorithm>
#include <numeric>

namespace vkattn {

SlotPlan plan_slots(const std::vector<Lifetime>& lifetimes) {
  SlotPlan plan;
  plan.slot_of.assign(lifetimes.size(), 0);
  std::vector<uint32_t> order(lifetimes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return lifetimes[a].first < lifetimes[b].first; });
  std::vector<int64_t> busy_until;  // last node that uses each slot
  for (uint32_t t : order) {
    const Lifetime& life = lifetimes[t];
    int best = -1;
    for (size_t s = 0; s < busy_until.size(); ++s) {
      if (busy_until[s] >= static_cast<int64_t>(life.first)) continue;  // still in use at this node
      if (best < 0) {
        best = static_cast<int>(s);
        continue;
      }
      const uint64_t have = plan.slot_bytes[s], best_have = plan.slot_bytes[best];
      const bool fits = have >= life.bytes, best_fits = best_have >= life.bytes;
      if ((fits && (!best_fits || have < best_have)) || (!fits && !best_fits && have > best_have))
        best = static_cast<int>(s);
    }
    if (best < 0) {
      best = static_cast<int>(busy_until.size());
      busy_until.push_back(-1);
      plan.slot_bytes.push_back(0);
    }
    plan.slot_of[t] = best;
    busy_until[best] = life.last;
    plan.slot_bytes[best] = std::max(plan.slot_bytes[best], life.bytes);
  }
  return plan;
}

}  // namespace vkattn
