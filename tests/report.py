"""What the Python-side tests share: a line per check, the count of failures and the exit status
from it, and the relative error they compare outputs with."""
import sys

import numpy as np

failures = 0


def check(name, ok, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""))
    failures += 0 if ok else 1


def relative(a, b):
    """|a - b| / |b| over all elements, in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a.reshape(-1) - b.reshape(-1)) / max(np.linalg.norm(b), 1e-30))


def finish():
    print("%d failed" % failures)
    sys.exit(1 if failures else 0)
