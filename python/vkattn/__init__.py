"""vkattn: self-attention vision models on any Vulkan GPU, from Python.

    import vkattn
    model = vkattn.Model("model.safetensors")          # a network file or a lone block
    y = model.run(x)                                     # x: (B, C, H, W), any float dtype
    y, maps = model.run(x, attention=True)               # maps: each attention layer's (B, N, N)
    vkattn.devices(), model.device                       # the Vulkan devices, as dicts

Errors from the engine are vkattn.Error, with the engine's sentence.
"""
from ._vkattn import Error, Model, devices, version

__version__ = version()
__all__ = ["Error", "Model", "devices", "version"]
