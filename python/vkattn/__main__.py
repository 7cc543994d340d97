"""python3 -m vkattn info | run: the command-line tool's info and run, for scripts.

    python3 -m vkattn info
    python3 -m vkattn run --model M.safetensors --input X.npy --output Y.npy [--attention A.npy] [--device D]

Errors are one line, "vkattn: <sentence>", with exit status 2 for a usage mistake and 1 otherwise.
"""
import argparse
import os
import sys

import numpy as np

from . import Error, Model, devices, version


def save_atomically(path, array):
    """Writes path whole or not at all: a temporary file beside it, then renamed over it."""
    partial = "%s.%d.partial" % (path, os.getpid())
    try:
        with open(partial, "wb") as f:
            np.save(f, array)
        os.replace(partial, path)
    except OSError as e:
        if os.path.exists(partial):
            os.remove(partial)
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
    model = Model(args.model, device=args.device)
    if args.attention:
        y, maps = model.run(x, attention=True)
        if not maps:
            raise Error("'%s' has no self-attention layer, so --attention has no map to write." % args.model)
        save_atomically(args.attention, maps[0])
    else:
        y = model.run(x)
    save_atomically(args.output, y)
    print("%s: output %s written to %s" % (model.device["name"], tuple(y.shape), args.output))


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
    args = parser.parse_args(argv)
    try:
        {"info": info, "run": run}[args.command](args)
    except Error as e:
        print("vkattn: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
