"""`vkattn bench`'s breakdown of where the time goes, on a small network: the bytes each node must
move (every tensor its kernel binds, once), the per-kernel groups adding up to their nodes, the
wall time split into dispatches, barriers and the rest, and the same tables in the text form.
Usage: bench_breakdown.py VKATTN"""
import json
import math
import os
import subprocess
import sys
import tempfile

from files import write_safetensors

vkattn = sys.argv[1]
failures = 0


def check(name, ok, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))
    failures += 0 if ok else 1


with tempfile.TemporaryDirectory() as tmp:
    # conv 1 -> 4 channels on 6x6 (padding 1), relu, flatten, linear 144 -> 3.
    layers = {"format": 1, "input": [1, 6, 6], "layers": [{"type": "conv2d", "name": "c", "padding": 1},
                                                          {"type": "relu"}, {"type": "flatten"},
                                                          {"type": "linear", "name": "fc"}]}
    path = os.path.join(tmp, "net.safetensors")
    write_safetensors(path, {"c.weight": ((4, 1, 3, 3), [0.1] * 36), "c.bias": ((4,), [0.0] * 4),
                             "fc.weight": ((3, 144), [0.01] * 432), "fc.bias": ((3,), [0.0] * 3)},
                      {"vkattn.network": json.dumps(layers)})
    run = subprocess.run([vkattn, "bench", "--model", path, "--iterations", "5", "--json"], capture_output=True,
                         text=True, timeout=300)
    check("bench --json runs", run.returncode == 0, run.stderr)
    report = json.loads(run.stdout)
    nodes = {n["name"]: n for n in report["nodes"]}
    # On the cpu profile the kernels read an output-major copy of each weight (9 x 4 for the conv,
    # 144 x 4 for the linear layer) in place of the weight itself.
    if report["profile"] == "cpu":
        check("the convolution binds x, its weights, bias and y: 880 bytes",
              math.isclose(nodes["c"]["mbytes"] * 1e6, 4 * (36 + 36 + 4 + 144)), str(nodes["c"]))
        check("the linear layer binds x, its weights, bias and y: 2904 bytes",
              math.isclose(nodes["fc"]["mbytes"] * 1e6, 4 * (144 + 576 + 3 + 3)), str(nodes["fc"]))
        check("one row: the linear layer runs projection_narrow", nodes["fc"]["kernel"] == "projection_narrow",
              nodes["fc"]["kernel"])
    for n in report["nodes"]:
        check("%s: GB/s is its bytes over its time" % n["name"],
              n["gpu_ms"] <= 0 or math.isclose(n["gbytes_per_s"], n["mbytes"] / n["gpu_ms"], rel_tol=1e-9))
        check("%s: times are not negative" % n["name"], n["gpu_ms"] >= 0 and n["barrier_ms"] >= 0, str(n))
    time = report["time"]
    for kernel in report["kernels"]:
        mine = [n for n in report["nodes"] if n["kernel"] == kernel["kernel"]]
        check("kernel %s: its nodes add up" % kernel["kernel"],
              kernel["nodes"] == len(mine) and math.isclose(kernel["gpu_ms"], sum(n["gpu_ms"] for n in mine)) and
              kernel["dispatches"] == sum(n["dispatches"] for n in mine), str(kernel))
        check("kernel %s: share of the wall time" % kernel["kernel"],
              math.isclose(kernel["share"], kernel["gpu_ms"] / report["wall_ms"]["median"]))
    check("dispatch time is the nodes' sum",
          math.isclose(time["dispatch_ms"], sum(n["gpu_ms"] for n in report["nodes"])), str(time))
    check("barrier time is the nodes' sum",
          math.isclose(time["barrier_ms"], sum(n["barrier_ms"] for n in report["nodes"]), abs_tol=1e-12), str(time))
    check("dispatches counted", time["dispatches"] == sum(n["dispatches"] for n in report["nodes"]) ==
          report["memory"]["dispatches"], str(time))
    check("small dispatches are some of them", 0 <= time["small_dispatches"] <= time["dispatches"], str(time))
    check("the rest is not negative", time["other_ms"] >= 0, str(time))
    peak = report["fma_peak"]
    check("the multiply-add peak is measured", peak["gflops"] > 0 and peak["ms"] > 0 and peak["flops"] > 0, str(peak))
    check("the peak's GFLOP/s is its operations over its time",
          math.isclose(peak["gflops"], peak["flops"] / (peak["ms"] * 1e6), rel_tol=1e-9), str(peak))
    for n in report["nodes"]:  # a kernel doing more than multiply-adds cannot pass a kernel doing only them
        check("%s: under the peak" % n["name"], n["gflops"] <= 1.1 * peak["gflops"], "%s > %s" % (n["gflops"], peak))

    text = subprocess.run([vkattn, "bench", "--model", path, "--iterations", "2"], capture_output=True, text=True,
                          timeout=300)
    for part in ("by kernel", "barriers", "small dispatches (under 0.1 ms each)", "GB/s", "multiply-add peak"):
        check("the text form shows %r" % part, part in text.stdout, text.stdout)

print("%d failed" % failures)
sys.exit(1 if failures else 0)
