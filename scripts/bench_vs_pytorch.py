"""vkattn against PyTorch eager on the same CPU, in one run: the SAGAN block at several shapes,
the sample classifier at batch 250 and eight torchvision networks (ResNet-50, MobileNetV3-Small,
EfficientNet-B0, ViT-B/16, Swin-T, ConvNeXt-Tiny), PyTorch with OpenBLAS on its best kernel (and
Debian's reference BLAS for the block and the classifier). Writes docs/benchmarks/<device>.md (a
table with ratios against the speed issue's bars, GFLOP/s of each side and where vkattn's time
goes, the CPU named) and a PNG of time against N. Run it through scripts/bench-vs-pytorch.sh, which installs and builds first.

    /usr/bin/python3 scripts/bench_vs_pytorch.py [--vkattn build/samples/vkattn] [--out docs/benchmarks]
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIB = "/usr/lib/x86_64-linux-gnu"
BLAS = {"reference BLAS": os.path.join(LIB, "blas"), "OpenBLAS": os.path.join(LIB, "openblas-pthread")}
# PyTorch frees each intermediate after use and glibc hands blocks this large back to the kernel,
# so every pass touches fresh pages; on a VM where a page fault is slow that, not arithmetic, is
# most of PyTorch's time (N=4096: 400 ms against 38 ms). These glibc tunables keep freed memory for
# reuse, as a long-running process gets it; the ratio is against that faster figure.
KEEP_FREED = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"
# (column name, BLAS, glibc keeps freed memory)
# PyTorch runs on every core; with OpenBLAS also on one thread, which is faster where its threads
# and OpenBLAS's contend (ViT-B/16 here): the ratio is against the fastest OpenBLAS run.
TORCH_RUNS = [("reference BLAS", "reference BLAS", True, None), ("OpenBLAS", "OpenBLAS", True, None),
              ("OpenBLAS, 1 thread", "OpenBLAS", True, 1), ("OpenBLAS, default malloc", "OpenBLAS", False, None)]
FASTEST_OF = ("OpenBLAS", "OpenBLAS, 1 thread", "OpenBLAS, default malloc")
# (label, B, C, H, W, vkattn iterations, PyTorch iterations)
BLOCKS = [("block (1,64,32,32), N=1024", 1, 64, 32, 32, 7, 20),
          ("block (8,64,32,32)", 8, 64, 32, 32, 5, 10),
          ("block (1,64,64,64), N=4096", 1, 64, 64, 64, 5, 10),
          ("block (1,64,128,128), N=16384", 1, 64, 128, 128, 2, 3)]
CLASSIFIER_BATCH = 250
# torchvision networks exported with vkattn.export (random weights): (label, name, B, size, vkattn
# iterations, PyTorch iterations). PyTorch runs these with OpenBLAS only (the reference BLAS would
# take minutes a network).
NETWORKS = [("ResNet-50 (1,3,224,224)", "resnet50", 1, 224, 3, 5),
            ("ResNet-50 (8,3,224,224)", "resnet50", 8, 224, 2, 3),
            ("MobileNetV3-Small (1,3,224,224)", "mobilenet_v3_small", 1, 224, 5, 10),
            ("MobileNetV3-Small (32,3,224,224)", "mobilenet_v3_small", 32, 224, 3, 5),
            ("EfficientNet-B0 (1,3,224,224)", "efficientnet_b0", 1, 224, 3, 5),
            ("ViT-B/16 (1,3,224,224)", "vit_b_16", 1, 224, 3, 5),
            ("Swin-T (1,3,224,224)", "swin_t", 1, 224, 3, 5),
            ("ConvNeXt-Tiny (1,3,224,224)", "convnext_tiny", 1, 224, 3, 5)]
# The bars (vkattn / PyTorch), by the start of the label.
BARS = {"block": 0.8, "sample classifier": 1.0, "ResNet-50 (1": 1.5, "ResNet-50 (8": 1.2, "MobileNetV3": 2.0,
        "EfficientNet": 2.0, "ViT": 1.0, "Swin": 1.5, "ConvNeXt": 1.5}


def bar(label):
    return next((v for k, v in BARS.items() if label.startswith(k)), None)


def run_json(cmd, env=None):
    """Runs a command that prints one JSON object; returns it and the child's peak RSS in MiB."""
    probe = ("import json, resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stderr.write(r.stderr)\n"
             "print(json.dumps({'rc': r.returncode, 'out': r.stdout,"
             " 'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")
    r = subprocess.run([sys.executable, "-c", probe] + cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("bench-vs-pytorch: the measuring process failed: " + r.stderr.strip())
    result = json.loads(r.stdout)
    if result["rc"] != 0:
        sys.exit("bench-vs-pytorch: %s failed (exit %d): %s" % (" ".join(cmd), result["rc"], r.stderr.strip()))
    return json.loads(result["out"]), result["rss_kib"] / 1024


def torch_ms(kind, args, blas, keep_freed, threads):
    env = dict(os.environ, LD_LIBRARY_PATH=BLAS[blas])
    if threads:
        env["BENCH_TORCH_THREADS"] = str(threads)
    # These machines pin OpenBLAS to an older kernel; PyTorch gets its best one (vkattn is unaffected).
    for pin in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(pin, None)
    if keep_freed:
        env["GLIBC_TUNABLES"] = KEEP_FREED
    out, _ = run_json(["/usr/bin/python3", os.path.join(HERE, "torch_timing.py"), kind] + [str(a) for a in args], env)
    return out


def cpu_model():
    model, flags = platform.processor() or "unknown CPU", ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model in ("unknown CPU", platform.processor()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line
    isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"
    return model, isa, os.cpu_count()


def fmt(ms):
    return "%.1f (%.1f–%.1f)" % (ms["median"], ms["min"], ms["max"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vkattn", default=os.path.join(ROOT, "build", "samples", "vkattn"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks"))
    args = parser.parse_args()
    for name, folder in BLAS.items():
        if not os.path.isdir(folder):
            sys.exit("bench-vs-pytorch: %s is missing (%s); run scripts/bench-vs-pytorch.sh, which installs it." %
                     (name, folder))
    model, isa, cores = cpu_model()
    rows, chart = [], []
    info = None
    for label, b, c, h, w, vk_iters, pt_iters in BLOCKS:
        vk, rss = run_json([args.vkattn, "bench", "--shape", "%d,%d,%d,%d" % (b, c, h, w), "--iterations",
                            str(vk_iters), "--json"])
        info = info or vk
        torch_times = {name: torch_ms("block", [b, c, h, w, pt_iters], *run) for name, *run in TORCH_RUNS}
        rows.append((label, vk, rss, torch_times))
        if b == 1:
            chart.append((h * w, vk["wall_ms"]["median"], torch_times["OpenBLAS"]["ms"]["median"]))
        print("%-32s vkattn %s ms, PyTorch+OpenBLAS %s ms" % (label, fmt(vk["wall_ms"]), fmt(torch_times["OpenBLAS"]["ms"])),
              flush=True)
    classifier = os.path.join(ROOT, "samples", "classify", "fashion_sagan.safetensors")
    vk, rss = run_json([args.vkattn, "bench", "--model", classifier, "--shape", "%d,1,28,28" % CLASSIFIER_BATCH,
                        "--iterations", "3", "--json"])
    torch_times = {name: torch_ms("classifier", [CLASSIFIER_BATCH, 10], *run) for name, *run in TORCH_RUNS}
    rows.append(("sample classifier, batch %d" % CLASSIFIER_BATCH, vk, rss, torch_times))
    print("classifier: vkattn %s ms, PyTorch+OpenBLAS %s ms" % (fmt(vk["wall_ms"]), fmt(torch_times["OpenBLAS"]["ms"])),
          flush=True)

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(args.vkattn)), "python"))
    import torchvision
    import vkattn
    exported = tempfile.TemporaryDirectory()
    for label, name, b, size, vk_iters, pt_iters in NETWORKS:
        path = os.path.join(exported.name, name + ".safetensors")
        if not os.path.exists(path):
            vkattn.export(getattr(torchvision.models, name)(weights=None), path, (3, size, size), check=False)
        vk, rss = run_json([args.vkattn, "bench", "--model", path, "--shape", "%d,3,%d,%d" % (b, size, size),
                            "--iterations", str(vk_iters), "--json"])
        torch_times = {n: torch_ms("torchvision", [name, b, size, pt_iters], *run) if run[0] != "reference BLAS"
                       else None for n, *run in TORCH_RUNS}
        rows.append((label, vk, rss, torch_times))
        print("%s: vkattn %s ms, PyTorch+OpenBLAS %s ms" % (label, fmt(vk["wall_ms"]), fmt(torch_times["OpenBLAS"]["ms"])),
              flush=True)
    exported.cleanup()

    # The map at N = 16384 through `vkattn run --attention`: written in row blocks and streamed.
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from files import block_tensors, write_npy, write_safetensors
    with tempfile.TemporaryDirectory() as tmp:
        write_safetensors(os.path.join(tmp, "block.safetensors"), block_tensors(64, 8))
        write_npy(os.path.join(tmp, "x.npy"), (1, 64, 128, 128), [((i * 7919) % 1000) / 1000 - 0.5 for i in range(64 * 16384)])
        t0 = time.perf_counter()
        probe = ("import resource, subprocess, sys\n"
                 "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
                 "sys.exit('failed: ' + r.stderr.decode()) if r.returncode else print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
        r = subprocess.run([sys.executable, "-c", probe, args.vkattn, "run", "--model", os.path.join(tmp, "block.safetensors"),
                            "--input", os.path.join(tmp, "x.npy"), "--output", os.path.join(tmp, "y.npy"),
                            "--attention", os.path.join(tmp, "a.npy")], capture_output=True, text=True)
        map_s = time.perf_counter() - t0
        map_ok = r.returncode == 0
        map_rss = int(r.stdout.strip()) / 1024 if map_ok else 0
        map_bytes = os.path.getsize(os.path.join(tmp, "a.npy")) if map_ok else 0

    # The device's float32 multiply-add peak, which every `vkattn bench` run measures after its passes.
    peaks = sorted(vk["fma_peak"]["gflops"] for _, vk, _, _ in rows)
    peak = peaks[len(peaks) // 2]

    device = "lavapipe" if "llvmpipe" in info["device"] else info["device"].split(" (")[0].replace(" ", "-").lower()
    stem = "%s-%s" % (device, isa.lower().replace("-", ""))
    os.makedirs(args.out, exist_ok=True)
    png = stem + ".png"
    lines = ["# vkattn against PyTorch: %s on %s" % (info["device"], model), "",
             "Written by `scripts/bench-vs-pytorch.sh` on %s. One run, every pair measured on the same machine:" %
             time.strftime("%Y-%m-%d"), "",
             "- CPU: %s, %s, %d cores (`lscpu`)" % (model, isa, cores),
             "- vkattn: %s, %s kernel profile; `vkattn bench --json`, wall time per forward pass (submit + fence wait)"
             % (info["driver"], info["profile"]),
             "- PyTorch %s eager, `torch.no_grad()`, %d threads (and 1 in its own column), the same modules as samples/classify/train.py and "
             "torchvision's; BLAS picked with `LD_LIBRARY_PATH` (%s); OpenBLAS's kernel: %s" % (
                 torch_version(), rows[0][3]["OpenBLAS"]["threads"],
                 "; ".join("%s: %s" % (n, rows[0][3][n]["blas"]) for n in BLAS), rows[0][3]["OpenBLAS"]["blas_core"]),
             "- PyTorch's float32 output checked against the same model in float64, every row: largest relative "
             "error %.1e" % max(r[3][n]["rel_error"] for r in rows for n in FASTEST_OF),
             "- PyTorch runs with `GLIBC_TUNABLES=%s`, so that glibc keeps freed memory for reuse as a "
             "long-running process does; the last PyTorch column is the default allocator, which on a machine with "
             "slow page faults spends most of its time touching fresh pages." % KEEP_FREED,
             "- PyTorch runs without `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` (set on these machines, they pin "
             "OpenBLAS to an older kernel), so it uses its best kernel for this CPU",
             "- Times in ms: median (min–max) over the iterations; ratio = vkattn median / the fastest PyTorch + "
             "OpenBLAS median (every core or 1 thread, glibc keeping freed memory or not); bar = the speed issue's target ratio; GFLOP/s = the network's floating-point "
             "operations (vkattn's count) over each side's median",
             "- The device's float32 multiply-add peak, measured by every `vkattn bench` run (shaders/fma_peak.comp: "
             "multiply-adds in registers and nothing else, so no kernel can pass it): median %.1f GFLOP/s (%.1f–%.1f "
             "over the %d runs). 'the bar needs' = the GFLOP/s vkattn would need to meet the bar, and its share of "
             "that peak" % (peak, peaks[0], peaks[-1], len(peaks)), "",
             "| work | vkattn | PyTorch + reference BLAS | PyTorch + OpenBLAS | ratio | bar | GFLOP/s vkattn / PyTorch "
             "| the bar needs | PyTorch + OpenBLAS, 1 thread | PyTorch + OpenBLAS, default malloc | vkattn peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, vk, rss, pt in rows:
        # Against PyTorch's fastest OpenBLAS run (keeping freed memory and every core are usually,
        # not always, faster).
        fastest = min(pt[n]["ms"]["median"] for n in FASTEST_OF)
        ratio = vk["wall_ms"]["median"] / fastest
        gflop = vk["gflops"] * vk["wall_ms"]["median"] * 1e-3
        target = bar(label)
        needs = gflop / (target * fastest) * 1e3 if target else 0
        lines.append("| %s | %s | %s | %s | %.2f× | %s | %.1f / %.1f | %s | %s | %s | %.0f MiB |" % (
            label, fmt(vk["wall_ms"]), fmt(pt["reference BLAS"]["ms"]) if pt["reference BLAS"] else "—",
            fmt(pt["OpenBLAS"]["ms"]), ratio, ("≤ %.1f %s" % (target, "✓" if ratio <= target else "✗")) if target else "",
            vk["gflops"], gflop / fastest * 1e3, "%.0f (%.0f %%)" % (needs, 100 * needs / peak) if target else "",
            fmt(pt["OpenBLAS, 1 thread"]["ms"]),
            fmt(pt["OpenBLAS, default malloc"]["ms"]), rss))
    lines += ["", "The map at N = 16384 (`vkattn run --attention` on a (1, 64, 128, 128) input): " +
              ("%.1f s for the whole process, a %.0f MiB .npy written in row blocks, peak RSS %.0f MiB." %
               (map_s, map_bytes / 2**20, map_rss) if map_ok else "failed: " + r.stderr.strip()), "",
              "Where vkattn's time goes (`vkattn bench`, GPU time from timestamps): the three slowest kernels "
              "(share of the wall time, GFLOP/s, GB/s of the bytes their nodes must move), barriers, and "
              "dispatches under %.1f ms each:" % 0.1, ""]
    for label, vk, _, _ in rows:
        slowest = ", ".join("%s %.1f ms (%.0f %%, %.1f GFLOP/s, %.2f GB/s)" % (
            k["kernel"], k["gpu_ms"], 100 * k["share"], k["gflops"], k["gbytes_per_s"]) for k in vk["kernels"][:3])
        t = vk["time"]
        lines.append("- %s: %s; barriers %.1f ms (%.0f %%); %d of %d dispatches small, %.1f ms (%.0f %%)" % (
            label, slowest, t["barrier_ms"], 100 * t["barrier_share"], t["small_dispatches"], t["dispatches"],
            t["small_dispatch_ms"], 100 * t["small_dispatch_share"]))
    lines += ["", "![time against N](%s)" % png, ""]
    with open(os.path.join(args.out, stem + ".md"), "w") as f:
        f.write("\n".join(lines))
    draw(chart, os.path.join(args.out, png), model)
    print("wrote %s and %s" % (os.path.join(args.out, stem + ".md"), os.path.join(args.out, png)))


def torch_version():
    r = subprocess.run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def draw(chart, path, model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = [c[0] for c in chart]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(n, [c[1] for c in chart], "o-", label="vkattn (lavapipe)" if chart else "vkattn")
    ax.loglog(n, [c[2] for c in chart], "s-", label="PyTorch + OpenBLAS")
    ax.set_xlabel("N = H·W (block, B=1, C=64)")
    ax.set_ylabel("ms per forward pass")
    ax.set_title(model, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
