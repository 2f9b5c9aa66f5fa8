"""Run every fuzz target in turn within one time budget: ``python -m fuzz --seconds 60 [--merge] [kernel ...]``.

Each target starts from its checked-in corpus ``fuzz/corpus/<kernel>/`` (and its dictionary
``fuzz/<kernel>.dict`` if there is one) and collects new inputs in a scratch directory. An input
that fails (the twins disagree, or one crashes) is written to the corpus as ``crash-<sha1>``,
where tests/unit/test_fuzz_corpus.py replays it until it is fixed; while it fails, its target
stops on it at start-up.
``--merge`` adds the scratch inputs that reach new coverage to the corpus (libFuzzer ``-merge=1``).
Exits 1 when any target failed.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fluxlit._speedups import KERNELS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
START_UP = 3
"""Seconds a target spends before fuzzing (imports, instrumentation, replaying its corpus), taken off its share."""
OPTIONS = ["-max_len=2048", "-timeout=30"]


def fuzz_one(kernel: str, seconds: int, merge: bool) -> bool:
    """Fuzz one kernel's twins for ``seconds``; print a one-line summary, or the failure; True when nothing failed."""
    corpus = CORPUS / kernel
    dictionary = ROOT / "fuzz" / f"{kernel}.dict"
    target = [sys.executable, "-m", f"fuzz.{kernel}", f"-artifact_prefix={corpus}/", *OPTIONS]
    target += [f"-dict={dictionary}"] if dictionary.exists() else []
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{kernel}-") as scratch:
        run = subprocess.run([*target, f"-max_total_time={seconds}", scratch, str(corpus)], cwd=ROOT, capture_output=True, text=True, check=False)
        log = run.stdout + run.stderr
        if run.returncode != 0:
            start = log.find("=== Uncaught Python exception")
            print(f"{kernel}: FAILED (exit {run.returncode})\n{log[start:] if start >= 0 else log[-4000:]}", flush=True)
            return False
        found = len(list(Path(scratch).iterdir()))
        if merge:
            subprocess.run([*target, "-merge=1", str(corpus), scratch], cwd=ROOT, capture_output=True, check=True)
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    coverage = re.findall(r"cov: (\d+)", log)
    print(
        f"{kernel}: {done[1] if done else '?'} executions in {done[2] if done else '?'} s, coverage {coverage[-1] if coverage else '?'},"
        f" {found} inputs with new coverage{', merged' if merge else ''}; corpus {len(list(corpus.iterdir()))} files",
        flush=True,
    )
    return True


def main() -> int:
    """Split ``--seconds`` evenly over the chosen kernels' targets and run them one after another."""
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="total time for all targets, start-up included (default 60)")
    parser.add_argument("--merge", action="store_true", help="add inputs that reach new coverage to fuzz/corpus/<kernel>/")
    parser.add_argument("kernels", nargs="*", metavar="kernel", help=f"any of {', '.join(KERNELS)} (default: all)")
    args = parser.parse_args()
    if unknown := set(args.kernels) - set(KERNELS):
        parser.error(f"no fuzz target for {', '.join(sorted(unknown))}; choose from {', '.join(KERNELS)}")
    kernels = args.kernels or list(KERNELS)
    deadline = time.monotonic() + args.seconds
    passed = True
    for left, kernel in zip(range(len(kernels), 0, -1), kernels):
        share = max(1, int((deadline - time.monotonic()) / left) - START_UP)
        passed = fuzz_one(kernel, share, args.merge) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
