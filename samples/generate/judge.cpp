#include "judge.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "ranking.h"

Judge::Judge(vkattn::Context& ctx, const std::string& model, int64_t batch)
    : ctx_(ctx), net_(vkattn::Network::from_safetensors(vkattn::load_safetensors(model))), batch_(batch) {
  if (net_.input_shape() != vkattn::Shape{1, 28, 28})
    throw vkattn::Error("The judge '" + model + "' must take (1, 28, 28) pictures, as the sample classifier does.");
}

Judgement Judge::judge(const std::vector<float>& pixels) {
  const size_t plane = 28 * 28, count = pixels.size() / plane;
  std::vector<std::vector<double>> probabilities;
  // One executor per batch size: all full batches share one, a last partial batch gets its own.
  std::optional<vkattn::Executor> exec;
  int64_t built = 0;
  vkattn::Graph graph;
  for (size_t first = 0; first < count; first += size_t(batch_)) {
    const int64_t n = std::min<int64_t>(batch_, int64_t(count - first));
    if (n != built) {
      graph = vkattn::Graph();
      graph.output("logits", net_.build(graph, graph.input("x", {n, 1, 28, 28})).output);
      exec.emplace(ctx_, graph);
      built = n;
    }
    exec->set_input("x", {{n, 1, 28, 28}, {pixels.begin() + first * plane, pixels.begin() + (first + n) * plane}});
    exec->run();
    const vkattn::HostTensor logits = exec->output("logits");
    const size_t classes = logits.data.size() / size_t(n);
    for (int64_t b = 0; b < n; ++b) probabilities.push_back(rank_classes(&logits.data[b * classes], classes).probability);
  }
  Judgement j;
  j.count = probabilities.size();
  if (probabilities.empty()) return j;
  const size_t classes = probabilities.front().size();
  std::vector<double> marginal(classes, 0.0);
  j.share.assign(classes, 0.0);
  for (const auto& p : probabilities) {
    for (size_t k = 0; k < classes; ++k) marginal[k] += p[k] / double(j.count);
    j.share[std::max_element(p.begin(), p.end()) - p.begin()] += 1.0 / double(j.count);
  }
  double kl = 0;  // the mean over pictures of KL(p(y|x) || p(y)), terms with p(y|x) = 0 being 0
  for (const auto& p : probabilities)
    for (size_t k = 0; k < classes; ++k)
      if (p[k] > 0) kl += p[k] * std::log(p[k] / marginal[k]) / double(j.count);
  j.score = std::exp(kl);
  return j;
}
