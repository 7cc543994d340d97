#!/usr/bin/env python3
"""vkattn.Model under what a Python program does to it (issue 26): one Model shared by threads
(every result identical to a single-threaded run), a forked child (a vkattn.Error, no hang, and
the child exits cleanly), Ctrl-C during a long run (KeyboardInterrupt promptly, and the Model
still works), os.PathLike and NUL in paths, and the bounded cache of compiled graphs.
Needs PYTHONPATH to the built package (ctest sets it)."""
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np

import vkattn
from files import block_tensors, write_safetensors
from report import check, finish

HERE = os.path.dirname(os.path.abspath(__file__))


def raises_error(call, words):
    try:
        call()
    except vkattn.Error as e:
        return words in str(e), str(e)
    except Exception as e:  # noqa: BLE001 - any other type is the failure being reported
        return False, "raised %s: %s" % (type(e).__name__, e)
    return False, "no error"


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "block.safetensors")
    write_safetensors(path, block_tensors(16, 2, fill=0.05))

    # Paths: os.PathLike and bytes work; a NUL byte is refused, not cut short.
    model = vkattn.Model(pathlib.Path(path))
    check("Model(pathlib.Path)", model.run(np.ones((1, 16, 3, 3), np.float32)).shape == (1, 16, 3, 3))
    check("Model(bytes)", vkattn.Model(os.fsencode(path)).run(np.ones((1, 16, 2, 2))).shape == (1, 16, 2, 2))
    ok, detail = raises_error(lambda: vkattn.Model(path + "\0.ignored"), "NUL")
    check("a path with a NUL byte is refused", ok, detail)

    # Threads: 8 threads share one Model, on inputs of two shapes; every result is the one a lone
    # thread gets.
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((1 + i % 2, 16, 5 + i % 3, 7)).astype(np.float32) for i in range(24)]
    alone = [model.run(x) for x in inputs]
    results, errors = {}, []

    def work(t):
        try:
            for k in range(len(inputs)):
                i = (k + 5 * t) % len(inputs)
                results[(t, k)] = (i, model.run(inputs[i]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wrong = sum(not np.array_equal(y, alone[i]) for i, y in results.values())
    check("8 threads on one Model: no errors", not errors, "; ".join(errors[:3]))
    check("8 threads on one Model: all %d results identical to a lone thread's" % len(results),
          len(results) == 8 * len(inputs) and wrong == 0, "%d wrong" % wrong)

    # The compiled-graph cache keeps the 4 shapes used most recently.
    for b in range(1, 11):
        model.run(np.zeros((b, 16, 2, 3), np.float32))
    kept = model.cached_shapes
    check("10 batch sizes: the 4 most recent graphs kept", kept == [(b, 16, 2, 3) for b in range(7, 11)], str(kept))

    # fork: the child's run is a vkattn.Error naming 'spawn', not a hang; the child then exits
    # cleanly (its Model is not destroyed on the parent's device).
    script = textwrap.dedent("""
        import os, sys
        import numpy as np
        import vkattn
        model = vkattn.Model(sys.argv[1])
        model.run(np.ones((1, 16, 3, 3), np.float32))
        pid = os.fork()
        if pid == 0:
            try:
                model.run(np.ones((1, 16, 3, 3), np.float32))
                print("child: no error")
            except vkattn.Error as e:
                print("child: " + ("spawn" if "spawn" in str(e) else str(e)))
            sys.exit(0)  # a normal exit: the Model is finalised in the child
        _, status = os.waitpid(pid, 0)
        print("child status", os.waitstatus_to_exitcode(status))
        print("parent still runs", model.run(np.ones((1, 16, 3, 3), np.float32)).shape)
    """)
    r = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True, timeout=120)
    check("fork: the child's run is a vkattn.Error naming 'spawn'", "child: spawn" in r.stdout, r.stdout + r.stderr)
    check("fork: the child exits cleanly and the parent goes on",
          "child status 0" in r.stdout and "parent still runs (1, 16, 3, 3)" in r.stdout, r.stdout + r.stderr)

    # Ctrl-C during a long run interrupts it; the Model then still gives the right result.
    big = os.path.join(d, "big.safetensors")
    write_safetensors(big, block_tensors(64, 8, fill=0.01))
    script = textwrap.dedent("""
        import sys, time
        import numpy as np
        import vkattn
        model = vkattn.Model(sys.argv[1])
        x = np.ones((4, 64, 96, 96), np.float32)
        y0 = model.run(x)
        print("ready", flush=True)
        try:
            while True:
                model.run(x)
        except KeyboardInterrupt:
            start = time.time()
            print("interrupted", flush=True)
        print("same after", bool((model.run(x) == y0).all()), flush=True)
    """)
    q = subprocess.Popen([sys.executable, "-c", script, big], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = q.stdout.readline()
    time.sleep(0.5)  # inside a run by now: one takes seconds on lavapipe
    sent = time.time()
    q.send_signal(signal.SIGINT)
    out = q.stdout.readline()
    latency = time.time() - sent
    rest, err = q.communicate(timeout=300)
    check("Ctrl-C during a run raises KeyboardInterrupt", line == "ready\n" and out == "interrupted\n", out + err)
    check("... within a second (%.2f s)" % latency, latency < 1.0)
    check("... and the Model then gives the same result", "same after True" in rest and q.returncode == 0, rest + err)

finish()
