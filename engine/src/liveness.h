// Memory planning by liveness: intermediate tensors whose lifetimes (first writer to last
// reader, in node order) do not overlap are placed in the same buffer.
#pragma once
#include <cstdint>
#include <vector>

namespace vkattn {

struct Lifetime {
  uint64_t bytes;
  uint32_t first, last;  // node indices, inclusive
};

struct SlotPlan {
  std::vector<uint32_t> slot_of;    // per lifetime
  std::vector<uint64_t> slot_bytes; // size of each shared buffer
};

// Greedy interval colouring, tensors taken by first use: each goes into the free buffer whose
// size fits best (the smallest that is large enough, else the largest, which then grows).
SlotPlan plan_slots(const std::vector<Lifetime>& lifetimes);

}  // namespace vkattn
