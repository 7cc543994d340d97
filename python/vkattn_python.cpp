// vkattn for Python (the module vkattn._vkattn): a model file run on a Vulkan device, numpy
// arrays in and out, engine errors as vkattn.Error.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <mutex>
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

// The path a Python caller gave, as str, bytes or any os.PathLike; a NUL byte in it is refused
// by the engine when it opens the file.
std::string path_of(const py::object& path) {
  const py::object text = py::module_::import("os").attr("fsdecode")(py::module_::import("os").attr("fspath")(path));
  return text.cast<std::string>();
}

// A network file (a layer list in its metadata) or a lone self-attention block, compiled once per
// input shape and choice of maps; each compiled graph keeps its executor and buffers, for the
// kCompiledGraphs shapes used most recently.
//
// Threads: run() may be called from several threads at once; the calls take turns (one device
// queue and one set of buffers per shape), and each gets exactly its own result.
class Model {
 public:
  static constexpr size_t kCompiledGraphs = 4;

  // The file is read (and a bad one refused) before a device is opened.
  Model(const py::object& path, const std::optional<std::string>& device, const std::string& precision)
      : Model(vkattn::load_model(path_of(path)), device, vkattn::parse_precision(precision)) {}

  std::string precision() const { return vkattn::to_string(precision_); }

  py::dict device() const { return describe(context_.device()); }

  // The input shapes whose compiled graphs are kept, least recently used first.
  py::list cached_shapes() {
    refuse_if_forked();
    std::vector<std::pair<uint64_t, std::map<std::string, vkattn::Shape>>> kept;
    {
      py::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [key, c] : compiled_) kept.emplace_back(c.last_used, key.first);
    }
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    py::list out;
    for (const auto& [used, shapes] : kept) {
      if (shapes.size() == 1) {
        out.append(py::tuple(py::cast(shapes.begin()->second)));
        continue;
      }
      py::dict named;
      for (const auto& [name, shape] : shapes) named[py::str(name)] = py::tuple(py::cast(shape));
      out.append(named);
    }
    return out;
  }

  // x: an array for the model's one input, or a dict of arrays by input name.
  py::object run(const py::object& x, bool attention, bool boxes, bool named_outputs) {
    refuse_if_forked();
    std::map<std::string, vkattn::HostTensor> inputs;
    const auto take = [&](const std::string& name, const py::handle& value) {
      // Any real dtype and layout; converted (copied) only when it is not C-ordered float32 already.
      const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(value);
      if (!a) throw vkattn::Error("Input '" + name + "' must be an array of numbers.");
      vkattn::Shape shape;
      for (py::ssize_t i = 0; i < a.ndim(); ++i) shape.push_back(a.shape(i));
      if (!network_ && shape.size() != 4)
        throw vkattn::Error("The input must be a (B, C, H, W) array, but it has " + std::to_string(shape.size()) +
                            " dimensions.");
      if (network_ && network_->implicit_batch()) shape.insert(shape.begin(), 1);  // one whole item
      inputs[name] = {shape, std::vector<float>(a.data(), a.data() + a.size())};
    };
    const std::vector<std::string> names = input_names();
    if (py::isinstance<py::dict>(x)) {
      for (const auto& [key, value] : x.cast<py::dict>()) {
        const std::string name = py::str(key);
        if (std::find(names.begin(), names.end(), name) == names.end())
          throw vkattn::Error("The model has no input called '" + name + "'.");
        take(name, value);
      }
      for (const std::string& name : names)
        if (!inputs.count(name)) throw vkattn::Error("The model needs its input '" + name + "'.");
    } else {
      if (names.size() != 1) throw vkattn::Error("The model has " + std::to_string(names.size()) +
                                                 " inputs: give them as a dict of arrays by name.");
      take(names.front(), x);
    }
    std::map<std::string, vkattn::Shape> shapes;
    for (const auto& [name, t] : inputs) shapes[name] = t.shape;
    std::unique_lock<std::mutex> lock;
    Compiled* c = nullptr;
    {
      py::gil_scoped_release unlocked;  // other Python threads run while this one waits or works
      lock = std::unique_lock<std::mutex>(mutex_);
      c = &compiled(shapes, attention);
      for (const auto& [name, t] : inputs) c->executor->set_input(name, t);
      c->executor->submit({}, {});
      // A Ctrl-C (or any signal handler that raises) ends the wait with its exception; the work
      // finishes on the device, and the next run waits for it.
      c->executor->wait([] {
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      });
    }
    // Read with the lock still held, so that no other thread's run overwrites the outputs first.
    py::object y;
    if (named_outputs) {
      py::dict all;
      for (const auto& [value, output] : c->outputs) all[py::str(value)] = read(*c, output);
      y = all;
    } else {
      y = read(*c, c->outputs.front().second);
    }
    if (!attention && !boxes) return y;
    py::list result, maps, crops;
    result.append(y);
    for (const std::string& name : c->maps) maps.append(read(*c, name));
    if (attention) result.append(maps);
    // Box bounds are whole pixel numbers, exact in float32.
    for (const std::string& name : c->boxes) crops.append(read(*c, name).attr("astype")("int64"));
    if (boxes) result.append(crops);
    return py::tuple(result);
  }

  // The inputs' names, in file order ("x" for a lone block).
  std::vector<std::string> input_names() const {
    if (!network_) return {"x"};
    std::vector<std::string> names;
    for (const auto& [name, shape] : network_->inputs()) names.push_back(name);
    return names;
  }
  std::vector<std::string> output_names() const { return network_ ? network_->output_names() : std::vector<std::string>{"y"}; }

 private:
  // Before the lock is taken: a thread of the parent may have held it when the child was forked.
  void refuse_if_forked() const { context_.refuse_in_forked_child(); }

  struct Compiled {
    vkattn::Graph graph;
    std::vector<std::pair<std::string, std::string>> outputs;  // the model's outputs: value and graph output names
    std::vector<std::string> maps;   // output names of the attention maps, in layer order
    std::vector<std::string> boxes;  // and of the attention_crop layers' boxes
    std::unique_ptr<vkattn::Executor> executor;
    uint64_t last_used = 0;
  };

  // The network or block takes its weights from the file; the file itself is not kept.
  Model(const vkattn::SafeTensors& file, const std::optional<std::string>& device, vkattn::Precision precision)
      : context_(vkattn::Context::create(options(device))), precision_(precision) {
    if (vkattn::Network::describes(file)) network_ = vkattn::Network::from_safetensors(file);
    else block_ = vkattn::SelfAttentionWeights::from_safetensors(file, "auto");
  }

  static vkattn::ContextOptions options(const std::optional<std::string>& device) {
    vkattn::ContextOptions o;
    if (device) o.device = *device;
    return o;
  }

  // The compiled graph for this input, made if needed; past kCompiledGraphs, the least recently
  // used one goes (its buffers are freed).
  Compiled& compiled(const std::map<std::string, vkattn::Shape>& shapes, bool attention) {
    auto key = std::make_pair(shapes, attention);
    if (auto it = compiled_.find(key); it != compiled_.end()) {
      it->second.last_used = ++uses_;
      return it->second;
    }
    if (compiled_.size() >= kCompiledGraphs) {  // freed before the new graph's buffers are made
      auto oldest = compiled_.begin();
      for (auto it = compiled_.begin(); it != compiled_.end(); ++it)
        if (it->second.last_used < oldest->second.last_used) oldest = it;
      compiled_.erase(oldest);
    }
    Compiled c;
    std::map<std::string, vkattn::TensorId> inputs;
    for (const auto& [name, shape] : shapes) inputs[name] = c.graph.input(name, shape);
    if (network_) {
      const vkattn::NetworkTensors out = network_->build(c.graph, inputs, attention);
      // Graph outputs under names of their own, apart from the maps' and boxes'.
      for (const auto& [value, id] : out.outputs) {
        c.outputs.emplace_back(value, "output:" + value);
        c.graph.output(c.outputs.back().second, id);
      }
      for (size_t i = 0; attention && i < out.attention.size(); ++i) {
        c.maps.push_back("attention" + std::to_string(i));
        c.graph.output(c.maps.back(), out.attention[i].second);
      }
      for (size_t i = 0; i < out.boxes.size(); ++i) c.graph.output(c.boxes.emplace_back("boxes" + std::to_string(i)), out.boxes[i].second);
    } else {
      const auto out = vkattn::add_self_attention(c.graph, inputs.at("x"), *block_, "", attention);
      c.outputs.emplace_back("y", "y");
      c.graph.output("y", out.y);
      if (attention) c.graph.output(c.maps.emplace_back("attention0"), *out.attention);
    }
    vkattn::ExecutorOptions options;
    options.precision = precision_;
    c.executor = std::make_unique<vkattn::Executor>(context_, c.graph, options);
    c.last_used = ++uses_;
    return compiled_.emplace(std::move(key), std::move(c)).first->second;
  }

  // An output straight from the device's mapped buffer into a new numpy array (without the batch
  // axis of 1 for a network whose batch is implicit).
  py::array_t<float> read(Compiled& c, const std::string& name) const {
    vkattn::Shape shape = c.graph.shape(c.graph.outputs().at(name));
    if (network_ && network_->implicit_batch() && shape.size() > 1) shape.erase(shape.begin());
    py::array_t<float> out(std::vector<py::ssize_t>(shape.begin(), shape.end()));
    c.executor->read_output(name, 0, static_cast<uint64_t>(out.size()), out.mutable_data());
    return out;
  }

  std::optional<vkattn::Network> network_;
  std::optional<vkattn::SelfAttentionWeights> block_;
  vkattn::Context context_;
  vkattn::Precision precision_;
  std::map<std::pair<std::map<std::string, vkattn::Shape>, bool>, Compiled> compiled_;
  uint64_t uses_ = 0;
  std::mutex mutex_;
};

}  // namespace

PYBIND11_MODULE(_vkattn, m) {
  m.doc() = "vkattn: self-attention vision models on any Vulkan GPU.";
  py::register_exception<vkattn::Error>(m, "Error", PyExc_RuntimeError);
  m.def("version", [] { return std::string(vkattn::version()); }, "The library's version, e.g. '0.1.0'.");
  m.def(
      "onnx_ops",
      [] {
        const auto ops = vkattn::onnx_ops();
        return std::vector<std::string>(ops.begin(), ops.end());
      },
      "The ONNX op types Model loads from .onnx files (empty when built without ONNX support).");
  m.def(
      "devices",
      [] {
        py::list out;
        for (const auto& d : vkattn::Context::list_devices()) out.append(describe(d));
        return out;
      },
      "The Vulkan devices of this machine, each a dict (index, name, type, driver, vulkan, subgroup_size).");
  py::class_<Model>(m, "Model", "A model file (a network with a layer list, or one self-attention block).")
      .def(py::init<const py::object&, const std::optional<std::string>&, const std::string&>(), py::arg("path"),
           py::arg("device") = py::none(), py::arg("precision") = "fp32",
           "Loads a safetensors model (path: str, bytes or os.PathLike); device: an index or part of a name "
           "(default: the best device); precision: 'fp32', or 'fp16' to store weights and the tensors between "
           "kernels in 16 bits (computed in float32; inputs and outputs stay float32). One Model may be shared by threads (their runs take turns); it keeps "
           "the compiled graphs of the 4 input shapes used most recently. It belongs to the process that made "
           "it: in a forked child it raises vkattn.Error (use multiprocessing's 'spawn' start method).")
      .def_property_readonly("device", &Model::device, "The Vulkan device the model runs on, as a dict.")
      .def_property_readonly("precision", &Model::precision, "'fp32' or 'fp16', as the model was loaded.")
      .def_property_readonly("cached_shapes", &Model::cached_shapes,
                             "The input shapes whose compiled graphs the Model keeps (at most 4), least recently used first (a dict by "
                             "input name for a model with several inputs).")
      .def_property_readonly("inputs", &Model::input_names, "The model's input names, in file order.")
      .def_property_readonly("outputs", &Model::output_names, "The model's output names, the main one first.")
      .def("run", &Model::run, py::arg("x"), py::arg("attention") = false, py::arg("boxes") = false,
           py::arg("outputs") = false,
           "Runs the model on x (B, C, H, W), any real dtype, or on a dict of arrays by input name for a network "
           "with several inputs. Returns y (the first output) as float32, or with outputs=True a dict of every "
           "named output; with attention=True, "
           "(y, [maps]): each attention layer's (B, N, N) map; with boxes=True, (y, [boxes]) or (y, [maps], [boxes]): "
           "each attention_crop layer's (B, 4) int64 box, top, left, bottom, right in input pixels (ends exclusive).");
}
