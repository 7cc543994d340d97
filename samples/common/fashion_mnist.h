// The Fashion-MNIST test set from its IDX files (Debian's dataset-fashion-mnist).
#pragma once
#include <string>
#include <vector>

struct LabelledImages {
  int rows = 0, cols = 0;
  std::vector<float> pixels;  // count x rows x cols, pixel / 255
  std::vector<int> labels;
  size_t count() const { return labels.size(); }
};

// Reads <dir>/t10k-images-idx3-ubyte.gz and <dir>/t10k-labels-idx1-ubyte.gz (or the same names
// without .gz). Throws vkattn::Error if a file is missing, truncated or not IDX.
LabelledImages load_fashion_mnist_test(const std::string& dir);
