"""`python -m bench [--quick] [--profile]`: run the scenarios, write the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from bench.report import plot, render
from bench.run import QUICK, Plan, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    parser.add_argument("--profile", action="store_true", help="py-spy the peak push run")
    parser.add_argument("--out", type=Path, help="markdown report (default: none for --quick)")
    parser.add_argument("--json", type=Path, help="also dump the raw results here")
    parser.add_argument("--rate", type=float, help="peak logins/s (default 300)")
    parser.add_argument("--duration", type=float, help="seconds per login run (default 20)")
    opts = parser.parse_args()
    plan = QUICK if opts.quick else Plan()
    if opts.rate:
        plan = replace(plan, peak_rate=opts.rate)
    if opts.duration:
        plan = replace(plan, login_duration=opts.duration)
    plan = replace(plan, profile=opts.profile)
    result = asyncio.run(run(plan))
    command = "make bench" if sys.argv[1:] == ["--out", "docs/benchmarks.md"] else (
        "python -m bench " + shlex.join(sys.argv[1:])
    )  # fmt: skip
    if opts.json:
        opts.json.write_text(json.dumps(result.to_json()))
    if opts.out:
        png = opts.out.with_name(opts.out.stem + "-latency.png")
        plot(result, png)
        text = render(result, command, png.name)
        opts.out.write_text(text)
        print(text)
    else:
        print(render(result, command, ""))


if __name__ == "__main__":
    main()
