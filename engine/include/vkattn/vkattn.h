// Everything a program using vkattn needs.
#pragma once
#include "vkattn/context.h"
#include "vkattn/error.h"
#include "vkattn/executor.h"
#include "vkattn/graph.h"
#include "vkattn/ops.h"
#include "vkattn/io.h"
#include "vkattn/network.h"
#include "vkattn/onnx.h"
#include "vkattn/multihead_attention.h"
#include "vkattn/self_attention.h"
#include "vkattn/tensor.h"
#include "vkattn/version.h"
