#include "ranking.h"

#include <algorithm>
#include <cmath>
#include <numeric>

Ranked rank_classes(const float* logits, size_t classes) {
  Ranked r{std::vector<double>(classes), std::vector<size_t>(classes)};
  const double top = *std::max_element(logits, logits + classes);  // subtracted so exp cannot overflow
  for (size_t i = 0; i < classes; ++i) r.probability[i] = std::exp(logits[i] - top);
  const double sum = std::accumulate(r.probability.begin(), r.probability.end(), 0.0);
  for (double& p : r.probability) p /= sum;
  std::iota(r.order.begin(), r.order.end(), 0);
  std::sort(r.order.begin(), r.order.end(), [&](size_t a, size_t b) { return r.probability[a] > r.probability[b]; });
  return r;
}
