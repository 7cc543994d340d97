// NumPy .npy format, versions 1-3: magic, version, header length, a Python dict literal
// ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }), padding, then the raw data.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

#include "vkattn/error.h"
#include "vkattn/io.h"

namespace vkattn {

HostTensor load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("Cannot open '" + path + "'.");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw Error("'" + path + "' is not a NumPy .npy file.");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    header_start = 10;
  } else if ((major == 2 || major == 3) && bytes.size() >= 12) {
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    header_start = 12;
  } else {
    throw Error("'" + path + "' uses .npy format version " + std::to_string(major) + ", which vkattn cannot read.");
  }
  if (header_start + header_len > bytes.size()) throw Error("'" + path + "' is truncated inside its header.");
  const std::string header = bytes.substr(header_start, header_len);

  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    throw Error("'" + path + "' has a .npy header without a dtype.");
  const std::string descr = m[1];
  if (descr != "<f4" && descr != "=f4")
    throw Error("'" + path + "' holds '" + descr + "' data; vkattn needs little-endian float32 ('<f4'): "
                "save it with x.astype(numpy.float32).");
  if (std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*True)")))
    throw Error("'" + path + "' is stored in Fortran order; save a C-ordered array (numpy.ascontiguousarray).");
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw Error("'" + path + "' has a .npy header without a shape.");

  HostTensor t;
  const std::string dims = m[1];
  const std::regex number(R"(\s*(\d+)\s*(,|$))");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    const std::string digits = (*it)[1];
    if (digits.size() > 12) throw Error("'" + path + "' declares an impossibly large shape.");
    t.shape.push_back(std::stoll(digits));
  }
  const int64_t count = element_count(t.shape);
  const size_t data_start = header_start + header_len;
  const size_t have = (bytes.size() - data_start) / sizeof(float);
  if (count < 0 || static_cast<uint64_t>(count) > have)
    throw Error("'" + path + "' is truncated: its shape " + to_string(t.shape) + " needs " + std::to_string(count) +
                " values but the file holds " + std::to_string(have) + ".");
  t.data.resize(count);
  std::memcpy(t.data.data(), bytes.data() + data_start, count * sizeof(float));
  return t;
}

void save_npy(const std::string& path, const Shape& shape,
              const std::function<void(uint64_t first, uint64_t count, float* dst)>& read) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad so that magic (6) + version (2) + length (2) + header ends on a 64-byte boundary with '\n'.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  // Written beside the target and renamed at the end: a failure leaves no half-written file.
  const std::string partial = path + ".partial";
  try {
    std::ofstream out(partial, std::ios::binary);
    if (!out) throw Error("Cannot write '" + path + "'.");
    out.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
    out.write(len, 2);
    out << header;
    const uint64_t total = static_cast<uint64_t>(element_count(shape)), piece = uint64_t{1} << 22;  // 16 MiB
    std::vector<float> buffer(std::min(total, piece));
    for (uint64_t first = 0; first < total && out; first += piece) {
      const uint64_t count = std::min(piece, total - first);
      read(first, count, buffer.data());
      out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(count * sizeof(float)));
    }
    out.close();
    if (!out) throw Error("Writing '" + path + "' failed (disk full?).");
    if (std::rename(partial.c_str(), path.c_str()) != 0) throw Error("Cannot write '" + path + "'.");
  } catch (...) {
    std::remove(partial.c_str());
    throw;
  }
}

void save_npy(const std::string& path, const HostTensor& t) {
  if (static_cast<int64_t>(t.data.size()) != element_count(t.shape))
    throw Error("Cannot save a tensor of shape " + to_string(t.shape) + " holding " + std::to_string(t.data.size()) +
                " values to '" + path + "'.");
  save_npy(path, t.shape, [&](uint64_t first, uint64_t count, float* dst) {
    std::memcpy(dst, t.data.data() + first, count * sizeof(float));
  });
}

}  // namespace vkattn
