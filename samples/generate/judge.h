// How good generated pictures are, with the sample classifier as the judge: an Inception-Score-
// like figure, exp(E_x[KL(p(y|x) || p(y))]) with p(y|x) the classifier's probabilities and p(y)
// their mean over the pictures (1 when every picture looks alike or none is recognisable, up to
// the 10 classes when each is one clear class and the classes are evenly used), and the share of
// pictures each class wins.
#pragma once
#include <string>
#include <vector>

#include "vkattn/vkattn.h"

struct Judgement {
  double score = 0;
  std::vector<double> share;  // per class: the fraction of pictures it is the top class of
  size_t count = 0;
};

class Judge {
 public:
  // The classifier from `model`, run in batches of `batch` pictures.
  Judge(vkattn::Context& ctx, const std::string& model, int64_t batch);
  // pixels: count pictures of 28 x 28 values in [0, 1] (pixel / 255), as the classifier takes them.
  Judgement judge(const std::vector<float>& pixels);
  const std::vector<std::string>& labels() const { return net_.labels(); }

 private:
  vkattn::Context& ctx_;
  vkattn::Network net_;
  int64_t batch_;
};
