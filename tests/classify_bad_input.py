"""Bad input to the sample classifier and to whole-network model files: one sentence on stderr
and a non-zero exit, never a crash; plus a good run as the control.
Usage: classify_bad_input.py path/to/classify path/to/vkattn"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import zlib
import struct

from files import block_tensors, write_npy, write_safetensors

classify, vkattn = sys.argv[1], sys.argv[2]
failures = passed = 0


def check(name, program, args, words, want_ok=False):
    global failures, passed
    run = subprocess.run([program] + args, capture_output=True, text=True, timeout=300)
    err = run.stderr.strip()
    tool = os.path.basename(program)
    problems = []
    if run.returncode < 0 or run.returncode >= 128:
        problems.append("crashed with status %d" % run.returncode)
    if want_ok:
        if run.returncode != 0:
            problems.append("exit status %d" % run.returncode)
        if words not in run.stdout:
            problems.append("stdout lacks %r" % words)
    else:
        if run.returncode == 0:
            problems.append("exit status 0")
        if len(err.splitlines()) != 1 or not err.startswith(tool + ": "):
            problems.append("stderr is not one '%s: ...' line" % tool)
        if words.lower() not in err.lower():
            problems.append("stderr lacks %r" % words)
    if problems:
        failures += 1
        print("FAIL %s: %s\n     stdout: %s\n     stderr: %s" % (name, "; ".join(problems), run.stdout, err))
    else:
        passed += 1
        print("ok   %s: %s" % (name, (run.stdout.splitlines() or [""])[0] if want_ok else err))


def t(*shape, fill=0.05):
    n = 1
    for d in shape:
        n *= d
    return (shape, [fill] * n)


def network(layers=None, **changes):
    """A small grey 28x28 network with every kind of layer classify needs, as (tensors, metadata)."""
    tensors = {"c1.weight": t(4, 1, 3, 3), "c1.bias": t(4), "fc.weight": t(3, 4 * 14 * 14), "fc.bias": t(3)}
    tensors.update(block_tensors(4, 1, prefix="attn."))
    tensors.update(changes)
    layers = layers or [{"type": "conv2d", "name": "c1", "padding": 1},
                        {"type": "max_pool2d", "kernel": 2}, {"type": "self_attention", "name": "attn"},
                        {"type": "flatten"}, {"type": "linear", "name": "fc"}]
    meta = {"vkattn.network": json.dumps({"format": 1, "input": [1, 28, 28], "layers": layers}),
            "vkattn.labels": json.dumps(["a", "b", "c"])}
    return tensors, meta


def png(path, w, h, idat=None):
    """A grey PNG; idat replaces the compressed pixel data (garbage for the corrupt cases)."""
    if idat is None:
        raw = b"".join(b"\x00" + bytes((x * 7 + y * 3) % 256 for x in range(w)) for y in range(h))
        idat = zlib.compress(raw)
    chunk = lambda k, b: struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    open(path, "wb").write(data)
    return data


with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)

    def model(name, layers=None, drop=(), metadata=None, **changes):
        tensors, meta = network(layers, **changes)
        for k in drop:
            del tensors[k]
        meta.update(metadata or {})
        write_safetensors(p(name), tensors, meta)
        return p(name)

    good = model("good.safetensors")
    data = png(p("picture.png"), 40, 30)
    check("good picture (control)", classify, [p("picture.png"), "--model", good, "--out", p("out")], "1. ", want_ok=True)
    if not os.path.exists(p("out/picture_attention.png")):
        failures += 1
        print("FAIL good picture: no heatmap written")

    check("--crop (control)", classify, [p("picture.png"), "--model", good, "--out", p("crop"), "--crop",
                                         "--threshold", "0.7"], "crop: ", want_ok=True)
    for made in ("crop/picture_attention.png", "crop/picture_crop.png"):
        if not os.path.exists(p(made)):
            failures += 1
            print("FAIL --crop: no %s written" % made)
    check("--crop with --eval", classify, ["--eval", "--crop", "--model", good], "--crop is for pictures")
    check("--threshold past 1", classify, [p("picture.png"), "--model", good, "--crop", "--threshold", "1.5"], "--threshold")
    check("no image", classify, ["--model", good], "Give one or more")
    check("unreadable image", classify, [p("missing.png"), "--model", good], "Cannot read image")
    open(p("corrupt.png"), "wb").write(data[:40])
    check("corrupt image", classify, [p("corrupt.png"), "--model", good], "Cannot read image")
    open(p("text.jpg"), "w").write("not a picture at all\n")
    check("not an image", classify, [p("text.jpg"), "--model", good], "Cannot read image")
    check("output folder that cannot be made", classify, [p("picture.png"), "--model", good, "--out", "/proc/no/such"],
          "Cannot make the output folder")
    check("unknown option", classify, ["--colour", "red", p("picture.png")], "Unknown option")
    # stb_image gives no failure reason for some damaged streams: once a crash (a null string).
    png(p("garbage.png"), 40, 30, idat=bytes((i * 37 + 11) % 256 for i in range(300)))
    check("garbage pixel data", classify, [p("garbage.png"), "--model", good], "Cannot read image")
    png(p("wide.png"), 16000000, 1, idat=zlib.compress(bytes(16000001)))
    check("16000000x1 picture", classify, [p("wide.png"), "--model", good], "pixels a side")

    for tool in (classify, vkattn):
        write_npy(p("x.npy"), (2, 1, 28, 28), [0.5] * (2 * 784))
        args = (lambda m: [p("picture.png"), "--model", m]) if tool == classify else \
               (lambda m: ["run", "--model", m, "--input", p("x.npy"), "--output", p("y.npy")])
        name = os.path.basename(tool)
        check(name + ": missing layer weights", tool, args(model("nobias.safetensors", drop=["fc.bias"])), "fc.bias")
        check(name + ": missing attention weights", tool, args(model("nogamma.safetensors", drop=["attn.gamma"])), "attn.gamma")
        check(name + ": unknown layer type", tool,
              args(model("group_norm.safetensors", layers=[{"type": "group_norm"}])), "'group_norm' is not one vkattn runs")
        check(name + ": inconsistent shapes", tool,
              args(model("skew.safetensors", **{"fc.weight": t(3, 100)})), "input features")
        check(name + ": conv channels", tool,
              args(model("chan.safetensors", **{"c1.weight": t(4, 3, 3, 3)})), "input channels")
        check(name + ": layer list not JSON", tool,
              args(model("json.safetensors", metadata={"vkattn.network": "{\"format\": 1, "})), "not valid JSON")
        deep = "{\"format\": 1, \"input\": [1, 28, 28], \"layers\": " + "[" * 100000 + "]" * 100000 + "}"
        check(name + ": layer list nested 100000 deep", tool,
              args(model("deep.safetensors", metadata={"vkattn.network": deep})), "nests deeper than 64 levels")
        attention_with = lambda **k: [{"type": "conv2d", "name": "c1", "padding": 1}, {"type": "max_pool2d", "kernel": 2},
                                      dict({"type": "self_attention", "name": "attn"}, **k),
                                      {"type": "flatten"}, {"type": "linear", "name": "fc"}]
        check(name + ": unknown similarity", tool,
              args(model("sim.safetensors", layers=attention_with(similarity="manhattan"))), "layer 3 (self_attention 'attn')")
        check(name + ": additive similarity without its weight", tool,
              args(model("add.safetensors", layers=attention_with(similarity="additive"))), "attn.additive.weight")
        check(name + ": similarity not a string", tool,
              args(model("simnum.safetensors", layers=attention_with(similarity=3))), "must be a string")
        check(name + ": bad layer option", tool,
              args(model("opt.safetensors", layers=[{"type": "max_pool2d", "kernel": -2}])), "'kernel'")
        check(name + ": labels do not match", tool,
              args(model("labels.safetensors", metadata={"vkattn.labels": json.dumps(["a", "b"])})), "names 2 classes")
    write_npy(p("x3.npy"), (1, 3, 28, 28), [0.5] * (3 * 784))
    check("vkattn: wrong input shape", vkattn, ["run", "--model", good, "--input", p("x3.npy"), "--output", p("y.npy")],
          "takes input (B, 1, 28, 28)")

    check("eval without data", classify, ["--eval", "--model", good, "--data", p("nothing")], "Cannot open")
    os.makedirs(p("idx"))
    with gzip.open(p("idx/t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 10, 28, 28) + bytes(784 * 9))
    with gzip.open(p("idx/t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x801, 10) + bytes(10))
    check("truncated test set", classify, ["--eval", "--model", good, "--data", p("idx")], "truncated")

print("%d passed, %d failed" % (passed, failures))
sys.exit(1 if failures else 0)
