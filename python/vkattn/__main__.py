"""python3 -m vkattn info | run | export: the command-line tool's info and run, and export, for scripts.

    python3 -m vkattn info
    python3 -m vkattn run --model M.safetensors --input X.npy --output Y.npy [--attention A.npy] [--precision fp16] [--device D]
    python3 -m vkattn export FILE.py:FACTORY --input-shape C,H,W --output M.safetensors [--weights W.pt]
                             [--labels a,b,...] [--no-check]
    python3 -m vkattn export MODULE.pt ...     (a whole module saved with torch.save(module, ...))

Errors are one line, "vkattn: <sentence>", with exit status 2 for a usage mistake and 1 otherwise.
"""
import argparse
import importlib.util
import os
import sys

import numpy as np

from . import Error, Model, devices, export as export_module, version
from .safetensors import write_atomically


def save_atomically(path, array):
    """Writes path whole or not at all, or raises Error with a sentence."""
    try:
        write_atomically(path, lambda f: np.save(f, array))
    except OSError as e:
        raise Error("Cannot write '%s' (%s)." % (path, e.strerror or e)) from None


def info(args):
    print("vkattn %s" % version())
    for d in devices():
        print("  [%d] %s (%s, %s, Vulkan %s)" % (d["index"], d["name"], d["type"], d["driver"], d["vulkan"]))


def run(args):
    try:
        x = np.load(args.input, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise Error("Cannot read '%s' as a .npy array (%s)." % (args.input, e)) from None
    model = Model(args.model, device=args.device, precision=args.precision)
    if args.attention:
        y, maps = model.run(x, attention=True)
        if not maps:
            raise Error("'%s' has no self-attention layer, so --attention has no map to write." % args.model)
        save_atomically(args.attention, maps[0])
    else:
        y = model.run(x)
    save_atomically(args.output, y)
    # Status on stderr: stdout may be the output itself ("--output -").
    print("%s: output %s written to %s" % (model.device["name"], tuple(y.shape), args.output), file=sys.stderr)


def load_module(source, weights):
    """The torch.nn.Module named by source: FILE.py:FACTORY (called with no arguments) or a torch.save'd module."""
    import torch
    if ":" in source and source.rsplit(":", 1)[0].endswith(".py"):
        file, factory = source.rsplit(":", 1)
        spec = importlib.util.spec_from_file_location("vkattn_export_source", file)
        if spec is None or not os.path.isfile(file):
            raise Error("Cannot read '%s': it is missing or not a Python file." % file)
        code = importlib.util.module_from_spec(spec)
        sys.path.insert(0, os.path.dirname(os.path.abspath(file)))  # its own imports, as if run from there
        try:
            spec.loader.exec_module(code)
        except Exception as e:  # noqa: BLE001 - the user's script's own failure, as one sentence
            raise Error("Running '%s' failed (%s: %s)." % (file, type(e).__name__, e)) from None
        if not callable(getattr(code, factory, None)):
            raise Error("'%s' has no function or class called '%s'." % (file, factory))
        try:
            module = getattr(code, factory)()
        except Exception as e:  # noqa: BLE001
            raise Error("Calling %s() in '%s' failed (%s: %s)." % (factory, file, type(e).__name__, e)) from None
    else:
        try:
            module = torch.load(source, map_location="cpu")
        except (OSError, RuntimeError, EOFError, ValueError) as e:
            raise Error("Cannot read '%s' as a torch.save file (%s)." % (source, e)) from None
        except (AttributeError, ModuleNotFoundError) as e:
            raise Error("Cannot load '%s': the classes it was saved with are not importable here (%s); give the "
                        "module as FILE.py:FACTORY and its weights with --weights." % (source, e)) from None
        if isinstance(module, dict):
            raise Error("'%s' holds a state_dict, not a module: give the module as FILE.py:FACTORY and this file "
                        "with --weights." % source)
    if not isinstance(module, torch.nn.Module):
        raise Error("'%s' gives a %s, not a torch.nn.Module." % (source, type(module).__name__))
    if weights:
        try:
            state = torch.load(weights, map_location="cpu")
            module.load_state_dict(state.state_dict() if isinstance(state, torch.nn.Module) else state)
        except (OSError, RuntimeError, EOFError, ValueError, AttributeError, TypeError) as e:
            raise Error("Cannot load the weights in '%s' into the module (%s)." % (weights, e)) from None
    return module


def export(args):
    try:
        shape = tuple(int(d) for d in args.input_shape.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise Error("--input-shape must be C,H,W with three positive whole numbers, not '%s'." % args.input_shape)
    module = load_module(args.source, args.weights)
    labels = args.labels.split(",") if args.labels else None
    try:
        network = export_module(module, args.output, shape, labels=labels, check=not args.no_check,
                                attention_maps=args.attention_maps)
    except ValueError as e:
        raise Error("Cannot export '%s': %s." % (args.source, e)) from None
    except OSError as e:
        raise Error("Cannot write '%s' (%s)." % (args.output, e.strerror or e)) from None
    print("%s: %d nodes written to %s" % (args.source, len(network["nodes"]), args.output), file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m vkattn", description="vkattn from Python scripts.")
    parser.add_argument("--version", action="version", version="vkattn %s" % version())
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="the Vulkan devices")
    p = commands.add_parser("run", help="run a model file on a .npy array")
    p.add_argument("--model", required=True, help="M.safetensors: a network or a lone block")
    p.add_argument("--input", required=True, help="X.npy (B, C, H, W)")
    p.add_argument("--output", required=True, help="Y.npy to write")
    p.add_argument("--attention", help="A.npy: also write the first attention layer's map")
    p.add_argument("--device", help="a device index or part of its name")
    p.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                   help="fp16: weights and tensors between kernels stored in 16 bits")
    p = commands.add_parser("export", help="write a PyTorch module as a network file")
    p.add_argument("source", help="FILE.py:FACTORY (a function or class giving the module) or MODULE.pt "
                                  "(a whole module saved with torch.save)")
    p.add_argument("--input-shape", required=True, help="C,H,W of one input")
    p.add_argument("--output", required=True, help="M.safetensors to write")
    p.add_argument("--weights", help="a state_dict (.pt) to load into the module first")
    p.add_argument("--labels", help="class names, separated by commas")
    p.add_argument("--no-check", action="store_true", help="do not run the file with vkattn against the module")
    p.add_argument("--attention-maps", action="store_true",
                   help="also make each attention layer's map an output <layer>.map (for vkattn rollout)")
    args = parser.parse_args(argv)
    try:
        {"info": info, "run": run, "export": export}[args.command](args)
    except Error as e:
        print("vkattn: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
