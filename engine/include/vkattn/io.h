// Reading and writing tensors: NumPy .npy (float32, C order) and safetensors model files.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "vkattn/output_file.h"
#include "vkattn/tensor.h"

namespace vkattn {

// The bytes of a regular file, read up to the size it had when opened; a FIFO, device or
// directory, a path with a NUL byte, or a file that grows while read is a vkattn::Error.
std::string read_file(const std::string& path);

// Reads a float32, C-order .npy file; anything else is a vkattn::Error naming the file.
HostTensor load_npy(const std::string& path);
// The same from bytes in memory; `source` names them in error messages.
HostTensor parse_npy(std::string_view bytes, const std::string& source);
void save_npy(const std::string& path, const HostTensor& tensor);
// Streams a tensor too large to copy whole (an attention map): `read(first, count, dst)` fills
// dst with elements [first, first + count) and is called for successive pieces of the data.
// The file appears under `path` only once it is complete (see OutputFile for FIFOs, devices and
// "-", standard output).
void save_npy(const std::string& path, const Shape& shape,
              const std::function<void(uint64_t first, uint64_t count, float* dst)>& read);
// The same into an open output, left uncommitted: a caller writing several files commits them
// together once all are written.
void write_npy(OutputFile& out, const Shape& shape,
               const std::function<void(uint64_t first, uint64_t count, float* dst)>& read);

// A parsed safetensors file. Tensors stored as F32, F16, BF16 or F64 are converted to float32.
struct SafeTensors {
  std::map<std::string, HostTensor> tensors;
  std::map<std::string, std::string> metadata;  // the "__metadata__" entry

  // The tensor called `name`; a vkattn::Error names it and the file if it is absent.
  const HostTensor& at(const std::string& name) const;
  std::string source;  // file the tensors came from, for error messages
};

SafeTensors load_safetensors(const std::string& path);
// The same from bytes in memory; `source` names them in error messages and becomes .source.
SafeTensors parse_safetensors(std::string_view bytes, const std::string& source);
// Writes float32 tensors; used by tests and tools to make model files.
void save_safetensors(const std::string& path, const SafeTensors& file);

}  // namespace vkattn
