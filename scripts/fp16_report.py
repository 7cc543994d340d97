"""What --precision fp16 gives on this machine, in one run: each network's error against PyTorch's
float64 forward in both precisions, the sample classifier's top-1 agreement with PyTorch over the
10,000 Fashion-MNIST test images, and memory and time per forward pass (vkattn bench) in both.
Writes docs/fp16/<device>.md. Run it through scripts/fp16-report.sh, which installs and builds first.

    /usr/bin/python3 scripts/fp16_report.py [--vkattn build/samples/vkattn] [--out docs/fp16]

Networks are torchvision's with random weights (none can be downloaded), in eval mode; inputs are
seeded normal images. The relative error is ||y - y64|| / ||y64|| over the whole output.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# (label, torchvision name, batch, size, batch-norm statistics from data). Random weights with
# batch norm's initial statistics (mean 0, variance 1) shrink MobileNetV3's activations block by
# block to 1e-8, below half's range, as no trained network's are: the calibrated rows first run
# a few batches in training mode, as a trained network's statistics would be, and one row keeps
# the initial ones to show what leaving half's range does.
NETWORKS = [("ResNet-50", "resnet50", 2, 224, True),
            ("MobileNetV3-Small", "mobilenet_v3_small", 2, 224, True),
            ("MobileNetV3-Small, initial batch-norm statistics", "mobilenet_v3_small", 2, 224, False),
            ("EfficientNet-B0", "efficientnet_b0", 2, 224, True), ("ViT-B/16", "vit_b_16", 1, 224, False),
            ("Swin-T", "swin_t", 1, 224, False), ("ConvNeXt-Tiny", "convnext_tiny", 1, 224, False)]


def calibrate(net, size):
    """Batch-norm statistics from three batches of normal images (cumulative averages)."""
    import torch
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(8, 3, size, size, generator=generator))
    return net.eval()
CLASSIFIER = os.path.join(ROOT, "samples", "classify", "fashion_sagan.safetensors")


def bench(vkattn_cli, model, shape, precision, iterations):
    out = subprocess.run([vkattn_cli, "bench", "--model", model, "--shape", ",".join(map(str, shape)), "--iterations",
                          str(iterations), "--precision", precision, "--json"], capture_output=True, text=True)
    if out.returncode:
        sys.exit("vkattn bench failed: " + out.stderr)
    return json.loads(out.stdout)


def timed(vkattn_cli, model, shape, rounds=2):
    """vkattn bench in both precisions, alternated over rounds (this VM's speed drifts by tens of
    percent over minutes); of each precision the round with the lowest median is kept."""
    best = {}
    for _ in range(rounds):
        for p in ("fp32", "fp16"):
            run = bench(vkattn_cli, model, shape, p, 3)
            if p not in best or run["wall_ms"]["median"] < best[p]["wall_ms"]["median"]:
                best[p] = run
    return best


def relative(y, ref):
    import numpy as np
    y, ref = np.asarray(y, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        return float("inf")
    return float(np.linalg.norm(y - ref) / np.linalg.norm(ref))


def classifier_eval(classify, precision):
    out = subprocess.run([classify, "--eval", "--precision", precision], capture_output=True, text=True)
    if out.returncode:
        sys.exit("classify --eval failed: " + out.stderr)
    accuracy = re.search(r"accuracy: ([\d.]+)%", out.stdout).group(1)
    agree = re.search(r"agreement with PyTorch: ([\d.]+)% \((\d+) of (\d+)", out.stdout)
    return float(accuracy), float(agree.group(1)), int(agree.group(2)), int(agree.group(3))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vkattn", default=os.path.join(ROOT, "build", "samples", "vkattn"))
    parser.add_argument("--classify", default=os.path.join(ROOT, "build", "samples", "classify", "classify"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "fp16"))
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(args.vkattn)), "python"))
    import numpy as np
    import torch
    import torchvision
    import vkattn

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    rows = []
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, batch, size, statistics in NETWORKS:
            torch.manual_seed(0)
            net = getattr(torchvision.models, name)(weights=None).eval()
            if statistics:
                calibrate(net, size)
            # ViT-B/16's head starts at zero (so does its output): random weights as the rest.
            for m in net.modules():
                if isinstance(m, torch.nn.Linear) and not m.weight.any():
                    torch.nn.init.normal_(m.weight, std=0.02)
            path = os.path.join(tmp, name + ("" if statistics else ".initial") + ".safetensors")
            vkattn.export(net, path, (3, size, size), check=False)
            x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(1))
            with torch.no_grad():
                y64 = net.double()(x.double()).numpy()
            errors, top1 = {}, {}
            for precision in ("fp32", "fp16"):
                y = vkattn.Model(path, precision=precision).run(x.numpy())
                errors[precision] = relative(y, y64)
                top1[precision] = int(np.sum(np.argmax(y, axis=1) == np.argmax(y64, axis=1)))
            stats = timed(args.vkattn, path, (1, 3, size, size))
            rows.append((label, batch, errors, top1, stats))
            print("%s: relative error fp32 %.2e, fp16 %.2e; %s" % (
                label, errors["fp32"], errors["fp16"],
                ", ".join("%s %.1f ms" % (p, s["wall_ms"]["median"]) for p, s in stats.items())), flush=True)
        classifier = {p: classifier_eval(args.classify, p) for p in ("fp32", "fp16")}
        print("classifier:", classifier, flush=True)
        classifier_stats = timed(args.vkattn, CLASSIFIER, (250, 1, 28, 28))

    info = rows[0][4]["fp32"]
    device = info["device"]
    stem = "lavapipe" if "llvmpipe" in device else device.split(" (")[0].replace(" ", "-").lower()
    mib = lambda b: "%.1f" % (b / 2**20)
    lines = ["# vkattn with --precision fp16: %s on %s" % (device, cpu), "",
             "Written by `scripts/fp16_report.py` on %s (%.0f minutes). Driver: %s." % (
                 time.strftime("%Y-%m-%d"), (time.time() - started) / 60, info["driver"]), "",
             "fp16 stores weights and every tensor between kernels as IEEE half and computes in float32; inputs "
             "and outputs stay float32. Errors are against PyTorch's float64 forward of the same weights and "
             "inputs: the whole output's ||y - y64|| / ||y64||. torchvision networks have random weights (eval "
             "mode) and seeded normal inputs; networks with batch norm take its statistics from three batches "
             "of such inputs (the initial ones, mean 0 and variance 1, shrink MobileNetV3's activations to 1e-8: "
             "the row that keeps them shows what leaving half's range does).", "",
             "## Error against float64", "",
             "| network | batch | fp32 | fp16 | top-1 equal to float64, fp32 / fp16 |", "|---|---|---|---|---|"]
    for label, batch, errors, top1, stats in rows:
        lines.append("| %s | %d | %.1e | %.1e | %d / %d of %d |" % (label, batch, errors["fp32"], errors["fp16"],
                                                                  top1["fp32"], top1["fp16"], batch))
    lines += ["", "## The sample classifier on the 10,000 test images", "",
              "| precision | accuracy | top-1 agreement with PyTorch |", "|---|---|---|"]
    for p, (accuracy, agree, same, total) in classifier.items():
        lines.append("| %s | %.2f %% | %.2f %% (%d of %d) |" % (p, accuracy, agree, same, total))
    lines += ["", "## Memory and time per forward pass (vkattn bench, batch 1; the classifier at 250)", "",
              "Medians of 3 passes; the two precisions alternate over 2 rounds and each keeps its faster round.", "",
              "| network | weights fp32 / fp16 (MiB) | intermediates fp32 / fp16 (MiB) | ms fp32 | ms fp16 | fp16 / fp32 |",
              "|---|---|---|---|---|---|"]
    for label, stats in [(r[0], r[4]) for r in rows] + [("sample classifier", classifier_stats)]:
        a, b = stats["fp32"], stats["fp16"]
        lines.append("| %s | %s / %s | %s / %s | %.1f | %.1f | %.2f |" % (
            label, mib(a["memory"]["weight_bytes"]), mib(b["memory"]["weight_bytes"]),
            mib(a["memory"]["intermediate_bytes"]), mib(b["memory"]["intermediate_bytes"]),
            a["wall_ms"]["median"], b["wall_ms"]["median"], b["wall_ms"]["median"] / a["wall_ms"]["median"]))
    lines += ["", "Memory halves. Time does not change much here: on lavapipe the kernels' time is arithmetic and "
              "texel fetches, not memory traffic, and each 16-bit load and store adds a conversion. On a GPU, "
              "where layers are often bound by memory bandwidth, halving the bytes should count for more; no "
              "GPU was measured for this page.", ""]
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, stem + ".md")
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("wrote", out)


if __name__ == "__main__":
    main()
