#include "fp16_variants.h"

#include <algorithm>

#include "vkattn/error.h"

#include "fp16_variants.inc"

namespace vkattn {
namespace {

struct Variant {
  std::span<const uint32_t> fp32, fp16;
};
const Variant kVariants[] = {VKATTN_FP16_VARIANTS};

}  // namespace

std::span<const uint32_t> fp16_variant(std::span<const uint32_t> spirv) {
  auto same = [](std::span<const uint32_t> a, std::span<const uint32_t> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  };
  std::span<const uint32_t> found;
  for (const Variant& v : kVariants)
    if (same(v.fp32, spirv)) {
      // Two kernels that compile to the same float build must have the same fp16 build too.
      if (!found.empty() && !same(found, v.fp16))
        throw Error("Internal error: two kernels share a float build but not an fp16 build.");
      found = v.fp16;
    }
  return found;
}

std::vector<std::pair<std::span<const uint32_t>, std::span<const uint32_t>>> fp16_variants() {
  std::vector<std::pair<std::span<const uint32_t>, std::span<const uint32_t>>> out;
  for (const Variant& v : kVariants) out.emplace_back(v.fp32, v.fp16);
  return out;
}

}  // namespace vkattn
