// The device's float32 multiply-add throughput, measured: the ceiling a kernel's GFLOP/s is read
// against (`vkattn bench` prints both). The kernel (shaders/fma_peak.comp) does nothing but
// multiply-adds in registers, so no real kernel can pass it; how close one comes says whether
// it is held back by arithmetic or by everything else (loads, stores, address arithmetic).
#pragma once
#include <cstdint>

#include "vkattn/context.h"

namespace vkattn {

struct FmaPeak {
  double gflops = 0;    // a multiply-add counted as two operations, as kernels' GFLOP/s are
  double ms = 0;        // the timed dispatch, submit to fence (at least 50 ms where possible)
  uint64_t lanes = 0;   // invocations in it
  uint64_t flops = 0;   // operations in it
};

// Runs the kernel, growing the work until one dispatch takes 50 ms, then times the best of three.
// Throws an Error if the kernel's result is not the exact one the host computes.
FmaPeak measure_fma_peak(Context& context);

}  // namespace vkattn
