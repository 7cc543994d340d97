"""vkattn: self-attention vision models on any Vulkan GPU, from Python.

    import vkattn
    vkattn.export(module, "model.safetensors", input_shape=(C, H, W))   # a PyTorch module to a file
    model = vkattn.Model("model.safetensors")          # a network file or a lone block
    model = vkattn.Model("model.onnx")                 # or an ONNX model (vkattn.onnx_ops(): its ops)
    y = model.run(x)                                     # x: (B, C, H, W), any float dtype
    y, maps = model.run(x, attention=True)               # maps: each attention layer's (B, N, N)
    y, boxes = model.run(x, boxes=True)                  # boxes: each attention_crop's (B, 4) pixels
    vkattn.devices(), model.device                       # the Vulkan devices, as dicts
    vkattn.nn.AttentionCrop(threshold, size)             # hard attention, for a glimpse network
    vkattn.nn.LocalSelfAttention(cin, cout, k, heads)    # local self-attention (SASA), k x k windows

Errors from the engine are vkattn.Error, with the engine's sentence; export's are ValueError.
The engine (Model, devices, version, Error) loads on first use and torch only with export, so
that the safetensors writer works without either.
"""
from .safetensors import write_safetensors

_ENGINE = ("Error", "Model", "devices", "version", "onnx_ops")
__all__ = list(_ENGINE) + ["export", "write_safetensors"]


def export(module, path, input_shape, labels=None, metadata=None, check=True, attention_maps=False):
    from .exporter import export as export_module
    return export_module(module, path, input_shape, labels=labels, metadata=metadata, check=check,
                         attention_maps=attention_maps)


export.__doc__ = """Writes a torch.nn.Module as a vkattn network file; see the docs of vkattn.exporter."""


def __getattr__(name):
    if name in _ENGINE:
        from . import _vkattn
        return getattr(_vkattn, name)
    if name == "nn":  # vkattn.nn: PyTorch modules for vkattn's own layers (imports torch)
        import importlib
        return importlib.import_module(".nn", __name__)
    if name == "__version__":
        from . import _vkattn
        return _vkattn.version()
    raise AttributeError("module 'vkattn' has no attribute '%s'" % name)
