// Precision::fp16: the graph the executor runs, with every tensor between kernels stored in 16
// bits. The application still writes float32 inputs and reads float32 outputs (its buffers,
// images and host tensors do not change), so a cast follows each input and precedes each output.
#pragma once
#include "vkattn/graph.h"

namespace vkattn {

// A copy of `graph` whose nodes read each input through a cast to 16 bits and whose outputs are
// casts of their values back to float32. Inputs, outputs, weights and nodes keep their names;
// weights share their values. make_plan(..., Precision::fp16) stores everything else in 16 bits.
Graph with_fp16_storage(const Graph& graph);

}  // namespace vkattn
