"""The command-line conventions of vkattn, classify, embed and generate, each with its exit status: --help
and -h on every command (0, usage on stdout), --version (0), "--opt value" and "--opt=value" alike,
numbers checked (2 for "abc", 0, negative, too large, octal or hex), unknown options and commands
named (2), a filter that matches nothing (1), bench taking its shape from a network file.
Usage: cli_conventions.py VKATTN CLASSIFY EMBED GENERATE"""
import os
import re
import subprocess
import sys
import tempfile

import json

from files import block_tensors, write_npy, write_safetensors

vkattn, classify, embed, generate = sys.argv[1:5]
failures = passed = 0


def expect(name, command, status, out=None, err=None):
    """Runs command; checks its exit status and that stdout/stderr contain the given text."""
    global failures, passed
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    problems = []
    if run.returncode != status:
        problems.append("exit status %d, not %d" % (run.returncode, status))
    if out is not None and out not in run.stdout:
        problems.append("stdout lacks %r" % out)
    if err is not None and err not in run.stderr:
        problems.append("stderr lacks %r" % err)
    if status != 0 and len(run.stderr.strip().splitlines()) != 1:
        problems.append("stderr is not one line: %r" % run.stderr)
    if problems:
        failures += 1
        print("FAIL %s: %s\n     stdout: %s\n     stderr: %s" % (name, "; ".join(problems), run.stdout[:300], run.stderr))
    else:
        passed += 1
        print("ok   %s" % name)
    return run


version = open(os.path.join(os.path.dirname(__file__), "..", "CMakeLists.txt")).read()
version = re.search(r"project\(vkattn VERSION ([0-9.]+)", version).group(1)

with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)
    write_safetensors(p("block.safetensors"), block_tensors(8, 1))
    write_npy(p("x.npy"), (1, 8, 3, 5), [0.5] * 120)

    # Help on every command, with -h and --help, on stdout, exit 0.
    for tool, commands in ((vkattn, ["", "info", "run", "bench", "conformance"]), (classify, [""]), (embed, [""]),
                           (generate, [""])):
        for flag in ("--help", "-h"):
            for c in commands:
                expect("%s %s %s" % (os.path.basename(tool), c, flag), [tool] + ([c] if c else []) + [flag], 0,
                       out="Usage:")
    # --version: the project's version.
    for tool, name in ((vkattn, "vkattn"), (classify, "classify"), (embed, "embed"), (generate, "generate")):
        expect("%s --version" % name, [tool, "--version"], 0, out="%s %s" % (name, version))
    expect("info prints the version", [vkattn, "info"], 0, out="vkattn %s" % version)

    # --opt value and --opt=value give the same run.
    a = expect("run --opt value", [vkattn, "run", "--model", p("block.safetensors"), "--input", p("x.npy"),
                                   "--output", p("y1.npy")], 0)
    b = expect("run --opt=value", [vkattn, "run", "--model=" + p("block.safetensors"), "--input=" + p("x.npy"),
                                   "--output=" + p("y2.npy")], 0)
    if open(p("y1.npy"), "rb").read() != open(p("y2.npy"), "rb").read():
        failures += 1
        print("FAIL --opt=value: a different output than --opt value")

    # Numbers: whole, in range, decimal; anything else is a usage error (2) naming the option.
    for value in ("abc", "0", "-5", "5x", "99999999999", "0x10", "", "1e3", "18446744073709551617"):
        expect("bench --iterations %r" % value, [vkattn, "bench", "--shape", "1,8,3,5", "--iterations", value], 2,
               err="--iterations: must be a whole number from 1 to 100000")
    expect("bench --iterations=-1", [vkattn, "bench", "--shape", "1,8,3,5", "--iterations=-1"], 2, err="--iterations")
    for value in ("xyz", "-5", "18446744073709551616"):
        expect("conformance --seed %r" % value, [vkattn, "conformance", "--seed", value], 2, err="--seed: must be")
    for flag, value in (("--batch", "0"), ("--batch", "abc"), ("--limit", "-1"), ("--min-accuracy", "nan"),
                        ("--min-accuracy", "1.5"), ("--min-agreement", "x")):
        expect("classify %s %s" % (flag, value), [classify, "--eval", flag, value], 2, err=flag + ": must be")
    for flag, value in (("--count", "0"), ("--count", "-3"), ("--seed", "abc"), ("--zoom", "17"), ("--batch", "0x10"),
                        ("--columns", "")):
        expect("generate %s %r" % (flag, value), [generate, flag, value], 2, err=flag + ": must be")

    # Unknown options, commands and arguments name themselves (2).
    expect("unknown option", [vkattn, "run", "--colour", "red"], 2, err="Unknown option '--colour'")
    expect("unknown option=value", [vkattn, "bench", "--colour=red"], 2, err="Unknown option '--colour'")
    expect("unknown command", [vkattn, "frobnicate"], 2, err="Unknown command 'frobnicate'")
    expect("no command", [vkattn], 2, err="A subcommand is required")
    expect("stray argument", [vkattn, "info", "extra"], 2, err="Unexpected argument 'extra'")
    expect("missing required option", [vkattn, "run", "--input", p("x.npy")], 2, err="--model is required")
    expect("option without its value", [vkattn, "run", "--model"], 2, err="--model")
    expect("classify unknown option", [classify, "--colour", "red", "x.png"], 2, err="Unknown option '--colour'")
    expect("embed unknown option", [embed, "--bogus"], 2, err="Unknown option '--bogus'")
    expect("generate unknown option", [generate, "--bogus"], 2, err="Unknown option '--bogus'")
    expect("generate stray argument", [generate, "extra"], 2, err="extra")
    expect("embed --help makes no folder", [embed, "--help"], 0)
    if os.path.exists("--help"):
        failures += 1
        print("FAIL embed --help made a folder named --help")

    # A filter that matches nothing is an error (1).
    expect("conformance filter matching nothing", [vkattn, "conformance", "--quick", "--filter", "no-such-case"], 1,
           err="matches no conformance case")

    # bench: the shape from a network file (batch --batch, default 1); a lone block needs --shape.
    layers = {"format": 1, "input": [1, 6, 6], "layers": [{"type": "conv2d", "name": "c", "padding": 1},
                                                          {"type": "relu"}, {"type": "flatten"},
                                                          {"type": "linear", "name": "fc"}]}
    write_safetensors(p("net.safetensors"), {"c.weight": ((4, 1, 3, 3), [0.1] * 36), "c.bias": ((4,), [0.0] * 4),
                                             "fc.weight": ((3, 144), [0.01] * 432), "fc.bias": ((3,), [0.0] * 3)},
                      {"vkattn.network": json.dumps(layers)})
    expect("bench a network without --shape", [vkattn, "bench", "--model", p("net.safetensors"), "--iterations", "1"],
           0, out="B=1 ")
    expect("bench a network, --batch 3", [vkattn, "bench", "--model", p("net.safetensors"), "--batch", "3",
                                           "--iterations", "1"], 0, out="B=3 ")
    expect("bench a lone block without --shape", [vkattn, "bench", "--model", p("block.safetensors")], 1,
           err="needs --shape")
    expect("bench --batch with --shape", [vkattn, "bench", "--shape", "2,8,3,5", "--batch", "3"], 1,
           err="--batch goes with")

print("%d passed, %d failed" % (passed, failures))
sys.exit(1 if failures else 0)
