// vkattn for Python (the module vkattn._vkattn): a model file run on a Vulkan device, numpy
// arrays in and out, engine errors as vkattn.Error.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vkattn/vkattn.h"

namespace py = pybind11;

namespace {

py::dict describe(const vkattn::DeviceInfo& d) {
  py::dict out;
  out["index"] = d.index;
  out["name"] = d.name;
  out["type"] = d.type;
  out["driver"] = d.driver_name + (d.driver_info.empty() ? "" : " " + d.driver_info);
  out["vulkan"] = vkattn::version_string(d.api_version);
  out["subgroup_size"] = d.subgroup_size;
  if (!d.profile.empty()) out["profile"] = d.profile;
  return out;
}

// A network file (a layer list in its metadata) or a lone self-attention block, compiled once per
// input shape and choice of maps; each compiled graph keeps its executor and buffers.
class Model {
 public:
  // The file is read (and a bad one refused) before a device is opened.
  Model(const std::string& path, const std::optional<std::string>& device)
      : Model(vkattn::load_safetensors(path), device) {}

  py::dict device() const { return describe(context_.device()); }

  py::object run(const py::array& input, bool attention, bool boxes) {
    // Any real dtype and layout; converted (copied) only when it is not C-ordered float32 already.
    const auto x = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(input);
    if (!x) throw vkattn::Error("The input must be an array of numbers.");
    if (x.ndim() != 4)
      throw vkattn::Error("The input must be a (B, C, H, W) array, but it has " + std::to_string(x.ndim()) +
                          " dimensions.");
    vkattn::Shape shape;
    for (py::ssize_t i = 0; i < x.ndim(); ++i) shape.push_back(x.shape(i));
    Compiled& c = compiled(shape, attention);
    vkattn::HostTensor host{shape, std::vector<float>(x.data(), x.data() + x.size())};
    {
      py::gil_scoped_release unlocked;  // other Python threads run while the device works
      c.executor->set_input("x", host);
      c.executor->run();
    }
    py::array_t<float> y = read(c, "y");
    if (!attention && !boxes) return y;
    py::list result, maps, crops;
    result.append(y);
    for (const std::string& name : c.maps) maps.append(read(c, name));
    if (attention) result.append(maps);
    // Box bounds are whole pixel numbers, exact in float32.
    for (const std::string& name : c.boxes) crops.append(read(c, name).attr("astype")("int64"));
    if (boxes) result.append(crops);
    return py::tuple(result);
  }

 private:
  struct Compiled {
    vkattn::Graph graph;
    std::vector<std::string> maps;   // output names of the attention maps, in layer order
    std::vector<std::string> boxes;  // and of the attention_crop layers' boxes
    std::unique_ptr<vkattn::Executor> executor;
  };

  // The network or block takes its weights from the file; the file itself is not kept.
  Model(const vkattn::SafeTensors& file, const std::optional<std::string>& device)
      : context_(vkattn::Context::create(options(device))) {
    if (vkattn::Network::describes(file)) network_ = vkattn::Network::from_safetensors(file);
    else block_ = vkattn::SelfAttentionWeights::from_safetensors(file, "auto");
  }

  static vkattn::ContextOptions options(const std::optional<std::string>& device) {
    vkattn::ContextOptions o;
    if (device) o.device = *device;
    return o;
  }

  Compiled& compiled(const vkattn::Shape& shape, bool attention) {
    auto key = std::make_pair(shape, attention);
    if (auto it = compiled_.find(key); it != compiled_.end()) return it->second;
    Compiled c;
    const vkattn::TensorId x = c.graph.input("x", shape);
    if (network_) {
      const vkattn::NetworkTensors out = network_->build(c.graph, x, attention);
      c.graph.output("y", out.output);
      for (size_t i = 0; attention && i < out.attention.size(); ++i) {
        c.maps.push_back("attention" + std::to_string(i));
        c.graph.output(c.maps.back(), out.attention[i].second);
      }
      for (size_t i = 0; i < out.boxes.size(); ++i) c.graph.output(c.boxes.emplace_back("boxes" + std::to_string(i)), out.boxes[i].second);
    } else {
      const auto out = vkattn::add_self_attention(c.graph, x, *block_, "", attention);
      c.graph.output("y", out.y);
      if (attention) c.graph.output(c.maps.emplace_back("attention0"), *out.attention);
    }
    c.executor = std::make_unique<vkattn::Executor>(context_, c.graph);
    return compiled_.emplace(std::move(key), std::move(c)).first->second;
  }

  // An output straight from the device's mapped buffer into a new numpy array.
  static py::array_t<float> read(Compiled& c, const std::string& name) {
    const vkattn::Shape& shape = c.graph.shape(c.graph.outputs().at(name));
    py::array_t<float> out(std::vector<py::ssize_t>(shape.begin(), shape.end()));
    c.executor->read_output(name, 0, static_cast<uint64_t>(out.size()), out.mutable_data());
    return out;
  }

  std::optional<vkattn::Network> network_;
  std::optional<vkattn::SelfAttentionWeights> block_;
  vkattn::Context context_;
  std::map<std::pair<vkattn::Shape, bool>, Compiled> compiled_;
};

}  // namespace

PYBIND11_MODULE(_vkattn, m) {
  m.doc() = "vkattn: self-attention vision models on any Vulkan GPU.";
  py::register_exception<vkattn::Error>(m, "Error", PyExc_RuntimeError);
  m.def("version", [] { return std::string(vkattn::version()); }, "The library's version, e.g. '0.1.0'.");
  m.def(
      "devices",
      [] {
        py::list out;
        for (const auto& d : vkattn::Context::list_devices()) out.append(describe(d));
        return out;
      },
      "The Vulkan devices of this machine, each a dict (index, name, type, driver, vulkan, subgroup_size).");
  py::class_<Model>(m, "Model", "A model file (a network with a layer list, or one self-attention block).")
      .def(py::init<const std::string&, const std::optional<std::string>&>(), py::arg("path"),
           py::arg("device") = py::none(),
           "Loads a safetensors model; device: an index or part of a name (default: the best device).")
      .def_property_readonly("device", &Model::device, "The Vulkan device the model runs on, as a dict.")
      .def("run", &Model::run, py::arg("x"), py::arg("attention") = false, py::arg("boxes") = false,
           "Runs the model on x (B, C, H, W), any real dtype. Returns y as float32; with attention=True, "
           "(y, [maps]): each attention layer's (B, N, N) map; with boxes=True, (y, [boxes]) or (y, [maps], [boxes]): "
           "each attention_crop layer's (B, 4) int64 box, top, left, bottom, right in input pixels (ends exclusive).");
}
