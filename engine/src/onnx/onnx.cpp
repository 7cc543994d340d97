// The public ONNX entry points (vkattn/onnx.h): read, convert at two batch sizes, and hand the
// result over as the safetensors-shaped file that Network::from_safetensors reads.
#include "vkattn/onnx.h"

#include <filesystem>

#include "onnx/converter.h"
#include "onnx/onnx_read.h"
#include "vkattn/error.h"
#include "vkattn/network.h"

namespace vkattn {
namespace {

using onnx_import::Converted;
using onnx_import::Converter;

// The first node of two conversions that differs, for the error when the batch is not free.
std::string first_difference(const Converted& a, const Converted& b) {
  const auto &x = a.network.at("nodes"), &y = b.network.at("nodes");
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    if (x[i] != y[i]) return "its node for '" + x[i].value("output", std::string()) + "' changes with the batch size";
  return "what it computes changes with the batch size";
}

// The converted file, checked by building it as the engine will (every layer's shapes): an
// error there names the ONNX node the failing layer comes from.
SafeTensors to_file(Converted c, const std::string& source) {
  SafeTensors file;
  file.tensors = std::move(c.weights);
  try {
    file.metadata["vkattn.network"] = c.network.dump();
  } catch (const nlohmann::json::exception&) {  // protobuf's C++ parser leaves strings unchecked
    throw Error("'" + source + "' names a value or node with bytes that are not UTF-8.");
  }
  file.source = source;
  try {
    Network::from_safetensors(file);
  } catch (const Error& e) {
    const std::string message = e.what(), prefix = "'" + source + "', node ";
    size_t end = 0;
    if (message.rfind(prefix, 0) == 0) {
      const size_t index = std::stoul(message.substr(prefix.size()), &end);
      const size_t rest = message.find("): ", prefix.size());
      if (index >= 1 && index <= c.origins.size() && rest != std::string::npos)
        throw Error("'" + source + "', " + c.origins[index - 1] + ": " + message.substr(rest + 3));
    }
    throw;
  }
  return file;
}

// Converts with the batch free where the model leaves it free (two probe sizes that must give
// the same file), else with its first dimension as the batch, else with every shape one item.
SafeTensors convert(const onnx::ModelProto& model, const std::string& source) {
  using Mode = Converter::Mode;
  bool free = true;
  for (const auto& in : model.graph().input()) {
    bool initializer = false;
    for (const auto& t : model.graph().initializer()) initializer |= t.name() == in.name();
    if (!initializer) free &= !in.type().tensor_type().shape().dim(0).has_dim_value();
  }
  if (free) {
    Converted five = Converter(model, source, Mode::free_batch, 5).run(), seven = Converter(model, source, Mode::free_batch, 7).run();
    if (five.network != seven.network || five.weights.size() != seven.weights.size())
      throw Error("'" + source + "' leaves its batch size free, but " + first_difference(five, seven) +
                  ", which vkattn cannot keep free.");
    return to_file(std::move(five), source);
  }
  try {
    return to_file(Converter(model, source, Mode::first_dim, 0).run(), source);
  } catch (const Error& first) {
    try {
      return to_file(Converter(model, source, Mode::implicit, 0).run(), source);
    } catch (const Error&) {
      throw first;
    }
  }
}

}  // namespace

bool onnx_available() { return true; }

SafeTensors parse_onnx(std::string_view bytes, const std::string& source) {
  return convert(onnx_import::read_model(bytes, source, std::nullopt), source);
}

SafeTensors load_onnx(const std::string& path) {
  const std::string bytes = read_file(path);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  return convert(onnx_import::read_model(bytes, path, folder.empty() ? std::string(".") : folder.string()), path);
}

std::set<std::string> onnx_ops() { return onnx_import::mapped_ops(); }

}  // namespace vkattn
