// `vkattn rollout`: where a vision transformer looks, as one heatmap over the input picture.
#pragma once
#include <string>
#include <vector>

#include "vkattn/vkattn.h"

struct RolloutOptions {
  std::string model, image, out;
  std::vector<float> mean = {0.f}, std = {1.f};  // per channel, or one value for all
};

// The attention rollout of Abnar & Zuidema (2020): each layer's head-averaged map A (the network's
// outputs named "<layer>.map", in file order, as vkattn.export(..., attention_maps=True) writes
// them) becomes 0.5 A + 0.5 I with its rows renormalised, and the product over the layers, last
// to first, says how much each token draws on each input patch. The class token's row (or, for a
// network without one, the mean row) over the patch grid is laid over the picture, which is read
// (stb_image), resized to the network's input and normalised as (v - mean) / std. Writes
// `out` (the picture beside it with the heatmap) and prints the top classes; throws vkattn::Error.
void attention_rollout(const RolloutOptions& options, vkattn::Context& ctx);

// The rollout itself, for maps of N x N tokens each (row-major), first layer first: the N x N
// product, row-major.
std::vector<double> rollout_matrix(const std::vector<std::vector<float>>& maps, size_t N);
