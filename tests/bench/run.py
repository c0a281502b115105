"""`make bench`: run every benchmark script under tests/bench/ and print its figures.

Benchmarks are scripts, not tests: each prints its own figures (and ratios
against a baseline measured in the same run). `make bench BENCH=registry`
runs only the scripts whose name contains that word.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def main(argv: list[str]) -> int:
    wanted = argv[1] if len(argv) > 1 else ""
    scripts = sorted(p for p in HERE.glob("bench_*.py") if wanted in p.stem)
    if not scripts:
        print(f"no benchmark matches {wanted!r}", file=sys.stderr)
        return 2
    failed = []
    for script in scripts:
        print(f"\n##### {script.stem}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=REPO)
        print(
            f"##### {script.stem}: exit {code} after {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if code:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
