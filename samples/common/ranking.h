// Reading a classifier's output: class probabilities and the classes in order of them.
#pragma once
#include <cstddef>
#include <vector>

struct Ranked {
  std::vector<double> probability;  // softmax of the logits, per class
  std::vector<size_t> order;        // class indices, most probable first
};

Ranked rank_classes(const float* logits, size_t classes);
