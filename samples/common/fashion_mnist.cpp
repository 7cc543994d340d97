#include "fashion_mnist.h"

#include <zlib.h>

#include <cstdint>
#include <filesystem>

#include "vkattn/error.h"

namespace {

// The whole file, decompressed if it is gzip (zlib reads plain files as they are).
std::vector<unsigned char> read_file(const std::string& dir, const std::string& name) {
  std::string path = dir + "/" + name + ".gz";
  if (!std::filesystem::exists(path)) path = dir + "/" + name;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw vkattn::Error("Cannot open '" + path + "' (install dataset-fashion-mnist, or pass --data DIR).");
  std::vector<unsigned char> data;
  unsigned char chunk[1 << 16];
  int n = 0;
  while ((n = gzread(f, chunk, sizeof chunk)) > 0) data.insert(data.end(), chunk, chunk + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw vkattn::Error("'" + path + "' is not a readable gzip file.");
  return data;
}

uint32_t big_endian(const std::vector<unsigned char>& d, size_t at) {
  return uint32_t(d[at]) << 24 | uint32_t(d[at + 1]) << 16 | uint32_t(d[at + 2]) << 8 | d[at + 3];
}

// Checks the IDX magic (unsigned bytes, `dims` dimensions) and size; returns the dimensions.
std::vector<uint32_t> idx_dims(const std::vector<unsigned char>& d, uint32_t dims, const std::string& name) {
  if (d.size() < 4 + 4 * dims || big_endian(d, 0) != (0x0800u | dims))
    throw vkattn::Error("'" + name + "' is not an IDX file of unsigned bytes with " + std::to_string(dims) + " dimensions.");
  std::vector<uint32_t> out;
  uint64_t count = 1;
  for (uint32_t i = 0; i < dims; ++i) out.push_back(big_endian(d, 4 + 4 * i)), count *= out.back();
  if (d.size() != 4 + 4 * dims + count) throw vkattn::Error("'" + name + "' is truncated or has extra bytes.");
  return out;
}

}  // namespace

LabelledImages load_fashion_mnist_test(const std::string& dir) {
  const std::string images_name = "t10k-images-idx3-ubyte", labels_name = "t10k-labels-idx1-ubyte";
  const auto images = read_file(dir, images_name), labels = read_file(dir, labels_name);
  const auto image_dims = idx_dims(images, 3, images_name), label_dims = idx_dims(labels, 1, labels_name);
  if (image_dims[0] != label_dims[0])
    throw vkattn::Error("The test set has " + std::to_string(image_dims[0]) + " images but " +
                        std::to_string(label_dims[0]) + " labels.");
  LabelledImages out;
  out.rows = int(image_dims[1]);
  out.cols = int(image_dims[2]);
  out.pixels.reserve(images.size() - 16);
  for (size_t i = 16; i < images.size(); ++i) out.pixels.push_back(images[i] / 255.f);
  for (size_t i = 8; i < labels.size(); ++i) out.labels.push_back(labels[i]);
  return out;
}
