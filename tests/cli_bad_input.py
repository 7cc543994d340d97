"""Every kind of bad input to `vkattn` gets one sentence on stderr and a non-zero exit, never a
crash. Usage: cli_bad_input.py path/to/vkattn"""
import os
import subprocess
import sys
import tempfile

from files import block_tensors, write_npy, write_safetensors

vkattn = sys.argv[1]
failures = 0
passed = 0


def expect_error(name, args, words, env=None):
    global failures, passed
    run = subprocess.run([vkattn] + args, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, **(env or {})))
    err = run.stderr.strip()
    problems = []
    if run.returncode == 0:
        problems.append("exit status 0")
    if run.returncode < 0 or run.returncode >= 128:
        problems.append("crashed with status %d" % run.returncode)
    if len(err.splitlines()) != 1 or not err.startswith("vkattn: "):
        problems.append("stderr is not one 'vkattn: ...' line")
    if words.lower() not in err.lower():
        problems.append("stderr lacks %r" % words)
    if problems:
        failures += 1
        print("FAIL %s: %s\n     stderr: %s" % (name, "; ".join(problems), err))
    else:
        passed += 1
        print("ok   %s: %s" % (name, err))


with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)
    write_safetensors(p("model.safetensors"), block_tensors(8, 1))
    write_npy(p("x.npy"), (1, 8, 3, 5), [0.5] * 120)
    good = ["--model", p("model.safetensors"), "--output", p("y.npy")]

    expect_error("no command", [], "A subcommand is required")
    expect_error("unknown command", ["frobnicate"], "Unknown command")
    expect_error("unknown option", ["run", "--colour", "red"], "Unknown option '--colour'")
    expect_error("option without value", ["run", "--model"], "--model: 1 required TEXT missing")
    expect_error("unknown precision", ["run"] + good + ["--input", p("x.npy"), "--precision", "fp8"], "--precision")
    expect_error("missing --input", ["run"] + good, "--input is required")
    expect_error("missing model file", ["run", "--model", p("nope.safetensors"), "--input", p("x.npy"),
                                        "--output", p("y.npy")], "Cannot open")

    raw = open(p("model.safetensors"), "rb").read()
    open(p("truncated.safetensors"), "wb").write(raw[:len(raw) - 7])
    expect_error("truncated safetensors", ["run", "--model", p("truncated.safetensors"), "--input", p("x.npy"),
                                           "--output", p("y.npy")], "outside")
    open(p("lying.safetensors"), "wb").write(b"\xff" * 8 + raw[8:])
    expect_error("header length lies", ["run", "--model", p("lying.safetensors"), "--input", p("x.npy"),
                                        "--output", p("y.npy")], "header claims")
    open(p("garbage.safetensors"), "wb").write(b"\x10\x00\x00\x00\x00\x00\x00\x00{{{{{{{{{{{{{{{{")
    expect_error("header not JSON", ["run", "--model", p("garbage.safetensors"), "--input", p("x.npy"),
                                     "--output", p("y.npy")], "not valid JSON")

    partial = block_tensors(8, 1)
    del partial["value_conv.bias"]
    write_safetensors(p("partial.safetensors"), partial)
    expect_error("missing tensor", ["run", "--model", p("partial.safetensors"), "--input", p("x.npy"),
                                    "--output", p("y.npy")], "value_conv.bias")
    # Lone-block metadata is read strictly: the whole string a finite number, a known similarity.
    for key, value, words in [("scale", "2abc", "must be a finite number"), ("scale", "nan", "must be a finite number"),
                              ("similarity", "bogus", "not one of dot, scaled_dot, cosine, additive"),
                              ("similarity", "additive", "additive.weight")]:
        write_safetensors(p("meta.safetensors"), block_tensors(8, 1), {key: value})
        expect_error("metadata %s %r" % (key, value), ["run", "--model", p("meta.safetensors"), "--input", p("x.npy"),
                                                       "--output", p("y.npy")], words)
    skewed = block_tensors(8, 1)
    skewed["key_conv.weight"] = ((2, 8, 1, 1), [0.1] * 16)
    write_safetensors(p("skewed.safetensors"), skewed)
    expect_error("mismatched shapes", ["run", "--model", p("skewed.safetensors"), "--input", p("x.npy"),
                                       "--output", p("y.npy")], "key_conv.weight")

    write_npy(p("x64.npy"), (1, 8, 3, 5), [0.5] * 120, descr="<f8")
    expect_error("float64 input", ["run", "--input", p("x64.npy")] + good, "float32")
    write_npy(p("x3.npy"), (8, 3, 5), [0.5] * 120)
    expect_error("rank-3 input", ["run", "--input", p("x3.npy")] + good, "(B, C, H, W)")
    write_npy(p("x6.npy"), (1, 6, 3, 5), [0.5] * 90)
    expect_error("wrong channel count", ["run", "--input", p("x6.npy")] + good, "input channels")
    open(p("short.npy"), "wb").write(open(p("x.npy"), "rb").read()[:-8])
    expect_error("truncated npy", ["run", "--input", p("short.npy")] + good, "truncated")

    # A map of N x N floats with N = 100000 is 40 GB: more than any device allows in one buffer.
    write_safetensors(p("one.safetensors"), block_tensors(1, 1))
    write_npy(p("long.npy"), (1, 1, 100000, 1), [0.0] * 100000)
    expect_error("map beyond device limits", ["run", "--model", p("one.safetensors"), "--input", p("long.npy"),
                                              "--output", p("y.npy"), "--attention", p("a.npy")],
                 "in one buffer")

    # Model files people have that are not safetensors: said what they are and how to export.
    import pickle, zipfile
    with zipfile.ZipFile(p("model.pt"), "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0]}, protocol=2))
    open(p("legacy.pth"), "wb").write(pickle.dumps({"weight": [1.0]}, protocol=2))
    # A truncated ONNX file: the ONNX loader's sentence (tests/onnx_bad_files.py has the others).
    open(p("model.onnx"), "wb").write(b"\x08\x07\x12\x07pytorch\x1a\x032.0" + bytes(40))
    expect_error("a truncated .onnx file", ["run", "--model", p("model.onnx"), "--input", p("x.npy"),
                                            "--output", p("y.npy")], "is not an ONNX model")
    for name, what in (("model.pt", "zip archive"), ("legacy.pth", "pickle")):
        expect_error("%s as a model" % name, ["run", "--model", p(name), "--input", p("x.npy"), "--output", p("y.npy")],
                     what)
        expect_error("%s says how to export" % name, ["run", "--model", p(name), "--input", p("x.npy"),
                                                       "--output", p("y.npy")], "python3 -m vkattn export")
    expect_error("no such device", ["info", "--device", "no-such-gpu"], "matches none")
    expect_error("no Vulkan driver", ["info"], "No Vulkan driver",
                 env={"VK_ICD_FILENAMES": os.path.join(d, "none.json"), "VK_DRIVER_FILES": os.path.join(d, "none.json")})
    expect_error("bad bench shape", ["bench", "--shape", "1,x,3"], "positive integers")
    # Numbers in flags are read whole and range-checked (these once ran silently with 1, or hung).
    for value in ("abc", "0", "-5", "5x", "99999999999"):
        expect_error("--iterations %s" % value, ["bench", "--shape", "1,8,3,5", "--iterations", value],
                     "--iterations: must be a whole number from 1 to 100000")
    expect_error("--seed xyz", ["conformance", "--quick", "--seed", "xyz", "--filter", "relu"], "--seed: must be")
    expect_error("filter matching nothing", ["conformance", "--quick", "--filter", "no-such-case"], "matches no")
    expect_error("output in a missing folder", ["run", "--model", p("model.safetensors"), "--input", p("x.npy"),
                                                 "--output", p("no/such/dir/y.npy")], "Cannot write '%s'" % p("no/such/dir/y.npy"))
    # --attention to a place that cannot be written: an error, and no Y left behind either.
    if os.path.exists(p("y.npy")):
        os.remove(p("y.npy"))
    expect_error("unwritable --attention", ["run", "--model", p("model.safetensors"), "--input", p("x.npy"),
                                            "--output", p("y.npy"), "--attention", p("no/such/dir/a.npy")],
                 "Cannot write")
    if os.path.exists(p("y.npy")) or os.path.exists(p("y.npy.pending")):
        failures += 1
        print("FAIL unwritable --attention: the output was left behind")

print("%d passed, %d failed" % (passed, failures))
sys.exit(1 if failures else 0)
