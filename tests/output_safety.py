#!/usr/bin/env python3
"""What a user's machine throws at the command-line tools' files (issue 26): outputs through a
symlink, into a FIFO, a character device (a private node made with mknod in a temp folder, never
a real /dev path) or standard output; concurrent writers of one path; the longest file names;
SIGINT, SIGTERM and SIGHUP during a write; a full standard output; classify's inputs that share a
base name; image headers that promise more pixels than the limit or than the file can hold; model
and input paths that are not regular files.
Usage: output_safety.py path/to/vkattn path/to/classify"""
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

from files import block_tensors, write_npy, write_safetensors
from report import check, finish

vkattn, classify = sys.argv[1], sys.argv[2]
ROOT = os.geteuid() == 0  # mknod needs it; the device-node checks are skipped (and said) otherwise
IMAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "classify", "images")


def run(args, **kw):
    return subprocess.run([vkattn] + args, capture_output=True, timeout=300, **kw)


def one_sentence(r, words):
    err = r.stderr.decode(errors="replace").strip()
    return r.returncode == 1 and len(err.splitlines()) == 1 and words.lower() in err.lower(), err


def temp_files(d):
    return [n for n in os.listdir(d) if n.endswith(".tmp") or ".partial" in n or ".pending" in n]


def reader_of(path, into):
    """Reads a FIFO to its end in a thread, as a user's `cat fifo` would."""
    def read():
        with open(path, "rb") as f:
            into.append(f.read())
    t = threading.Thread(target=read)
    t.start()
    return t


with tempfile.TemporaryDirectory() as d:
    p = lambda *names: os.path.join(d, *names)
    write_safetensors(p("model.safetensors"), block_tensors(8, 1))
    write_npy(p("x.npy"), (2, 8, 5, 7), [(i % 13) * 0.1 - 0.6 for i in range(2 * 8 * 35)])
    args = lambda out, *more: ["run", "--model", p("model.safetensors"), "--input", p("x.npy"), "--output", out] + list(more)

    r = run(args(p("y.npy"), "--attention", p("a.npy")))
    check("a plain run", r.returncode == 0, r.stderr.decode())
    want_y, want_a = open(p("y.npy"), "rb").read(), open(p("a.npy"), "rb").read()
    check("status lines on stderr, none on stdout", r.stdout == b"" and b"written to" in r.stderr,
          repr(r.stdout[:80]))

    # Standard output: '-' writes the .npy itself there, and nothing else.
    r = run(args("-"))
    check("--output - writes the .npy to stdout", r.returncode == 0 and r.stdout == want_y, r.stderr.decode())

    # A symlink: its target is replaced, the link stays; a dangling one creates its target.
    os.mkdir(p("real"))
    with open(p("real", "y.npy"), "wb") as f:
        f.write(b"old")
    os.symlink(os.path.join("real", "y.npy"), p("link.npy"))
    r = run(args(p("link.npy")))
    check("through a symlink: the link stays", os.path.islink(p("link.npy")), r.stderr.decode())
    check("through a symlink: its target holds the output", open(p("real", "y.npy"), "rb").read() == want_y)
    os.symlink(os.path.join("real", "new.npy"), p("dangling.npy"))
    r = run(args(p("dangling.npy")))
    check("a dangling symlink: its target is created", os.path.islink(p("dangling.npy")) and
          open(p("real", "new.npy"), "rb").read() == want_y, r.stderr.decode())

    # A FIFO: written directly, stays a FIFO, and the reader gets the whole file.
    os.mkfifo(p("fifo"))
    got = []
    t = reader_of(p("fifo"), got)
    r = run(args(p("fifo")))
    t.join(60)
    check("a FIFO is written directly and stays a FIFO", r.returncode == 0 and stat.S_ISFIFO(os.lstat(p("fifo")).st_mode)
          and got == [want_y], r.stderr.decode())

    # Character devices, private nodes of the kernel's null and full devices.
    if ROOT:
        os.mknod(p("null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(p("full"), 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        r = run(args(p("null")))
        check("a character device is written directly and stays one",
              r.returncode == 0 and stat.S_ISCHR(os.lstat(p("null")).st_mode), r.stderr.decode())
        r = run(args(p("full")))
        ok, err = one_sentence(r, "No space left on device")
        check("a full device: one sentence, exit 1", ok, err)
        check("a full device stays a device", stat.S_ISCHR(os.lstat(p("full")).st_mode))
        with open(p("full"), "wb") as full:
            for name, cmd in [("info", ["info"]), ("bench --json", ["bench", "--shape", "1,8,4,4", "--iterations", "1", "--json"]),
                              ("run --output -", args("-"))]:
                r = subprocess.run([vkattn] + cmd, stdout=full, stderr=subprocess.PIPE, timeout=300)
                ok, err = one_sentence(r, "standard output")
                check("stdout on a full device (%s): one sentence, exit 1" % name, ok, err)
        with open(p("full"), "wb") as full:
            r = subprocess.run([classify, os.path.join(IMAGES, "sneaker.png"), "--out", p("heat")], stdout=full,
                               stderr=subprocess.PIPE, timeout=300)
            ok, err = one_sentence(r, "standard output")
            check("classify's stdout on a full device: one sentence, exit 1", ok, err.replace("classify: ", ""))
    else:
        print("skip device nodes: mknod needs root")

    # Other kinds of path are refused, and nothing is left beside them.
    os.mkdir(p("dir.npy"))
    ok, err = one_sentence(run(args(p("dir.npy"))), "directory")
    check("a directory as the output: one sentence", ok, err)

    # The longest name the filesystem allows, 255 bytes.
    long_name = "y" * 251 + ".npy"
    r = run(args(p(long_name)))
    check("a 255-byte file name", r.returncode == 0 and open(p(long_name), "rb").read() == want_y, r.stderr.decode())

    # Concurrent writers of one path: every run succeeds and the file is whole.
    procs = [subprocess.Popen([vkattn] + args(p("same.npy"), "--attention", p("same_a.npy")), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(4)]
    codes = [q.wait(300) for q in procs]
    check("4 concurrent runs to one path all succeed", codes == [0] * 4, str(codes))
    check("... and leave the whole output and map", open(p("same.npy"), "rb").read() == want_y and
          open(p("same_a.npy"), "rb").read() == want_a)
    check("no temp file left behind", temp_files(d) == [], str(temp_files(d)))

    # A failed run leaves an existing output untouched: Y waits for the map, which cannot be written.
    with open(p("keep.npy"), "wb") as f:
        f.write(b"previous")
    r = run(args(p("keep.npy"), "--attention", p("dir.npy")))
    check("a failed map keeps the old Y", r.returncode == 1 and open(p("keep.npy"), "rb").read() == b"previous",
          r.stderr.decode())

    # Signals during a write: Y is staged in a temp file while the map's FIFO has no reader yet.
    os.mkfifo(p("blocked"))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        q = subprocess.Popen([vkattn] + args(p("keep.npy"), "--attention", p("blocked")), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while not temp_files(d) and q.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        staged = temp_files(d)
        q.send_signal(sig)
        code = q.wait(60)
        check("%s during a write: the process ends with the signal's status" % sig.name, code == -sig, str(code))
        check("%s during a write: its temp file is removed" % sig.name, staged != [] and temp_files(d) == [],
              "staged %s, left %s" % (staged, temp_files(d)))
        check("%s during a write: the old Y is untouched" % sig.name, open(p("keep.npy"), "rb").read() == b"previous")

    # Inputs that are not regular files are refused before anything is read.
    os.mkfifo(p("model_fifo"))
    ok, err = one_sentence(run(["run", "--model", p("model_fifo"), "--input", p("x.npy"), "--output", p("z.npy")]),
                           "not a regular file")
    check("a FIFO as the model: one sentence, no hang", ok, err)
    if ROOT:
        os.mknod(p("zero"), 0o666 | stat.S_IFCHR, os.makedev(1, 5))
        os.symlink(p("zero"), p("endless.npy"))
        ok, err = one_sentence(run(["run", "--model", p("model.safetensors"), "--input", p("endless.npy"), "--output",
                                    p("z.npy")]), "not a regular file")
        check("an input linked to an endless device: one sentence", ok, err)

    # Running out of host memory (an address-space limit below what a 64 MiB input needs twice
    # over) is a sentence, not "std::bad_alloc" or a crash.
    with open(p("big.npy"), "wb") as f:
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 16, 1024, 1024), }"
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.truncate(f.tell() + 16 * 1024 * 1024 * 4)
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (100 << 20, 100 << 20))
    r = subprocess.run([vkattn, "run", "--model", p("model.safetensors"), "--input", p("big.npy"), "--output", p("z.npy")],
                       capture_output=True, timeout=300, preexec_fn=limit)
    ok, err = one_sentence(r, "memory")
    check("out of host memory: one sentence, exit 1", ok, err)

    # classify: two pictures with one base name get two heatmaps.
    os.makedirs(p("a"))
    os.makedirs(p("b"))
    for folder, picture in (("a", "sneaker.png"), ("b", "trouser.png")):
        with open(os.path.join(IMAGES, picture), "rb") as src, open(p(folder, "x.png"), "wb") as dst:
            dst.write(src.read())
    r = subprocess.run([classify, p("a", "x.png"), p("b", "x.png"), "--out", p("same_stem")], capture_output=True,
                       timeout=300)
    made = sorted(os.listdir(p("same_stem"))) if os.path.isdir(p("same_stem")) else []
    check("classify a/x.png b/x.png: two heatmaps", r.returncode == 0 and made == ["x-2_attention.png", "x_attention.png"],
          "%s %s" % (made, r.stderr.decode()))

    # Headers that promise more than the limit, or more than the file can hold, are refused undecoded.
    headers = {"huge.pgm": b"P5\n8192 8192\n255\n" + b"\0" * 100,
               "huge.hdr": b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8192 +X 8192\n" + b"\0" * 64,
               "lying.pgm": b"P5\n3000 3000\n255\n" + b"\0" * 100,
               "lying.hdr": b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2000 +X 2000\n" + b"\0" * 64}
    for name, data in headers.items():
        with open(p(name), "wb") as f:
            f.write(data)
        start = time.time()
        r = subprocess.run([classify, p(name), "--out", p("heat2")], capture_output=True, timeout=300)
        err = r.stderr.decode().strip()
        check("%s (%d bytes): refused before decoding" % (name, len(data)),
              r.returncode == 1 and len(err.splitlines()) == 1 and "pixels" in err and time.time() - start < 30, err)

finish()
