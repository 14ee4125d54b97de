#!/usr/bin/env python3
"""Splits reallogs.csv by program, so every test line comes from a program
the model never saw in training.

    python3 bench/reallogs/split.py [reallogs.csv] OUTDIR

Writes OUTDIR/{a,b}-{train,test}.csv with columns source, log_message,
target_label (program kept as a column too). Split A trains on PROGRAMS_A and
tests on the rest; split B is the reverse. The default bundle is trained on
the synthetic corpus plus a-train.csv, so its held-out figures are those on
a-test.csv.
"""
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Each side holds every label; see README.md in this directory.
PROGRAMS_A = {"sshd", "nginx", "postgresql", "postfix", "shopd", "cron", "shadow"}


def main():
    args = sys.argv[1:]
    src = Path(args[0]) if len(args) == 2 else HERE / "reallogs.csv"
    out = Path(args[-1])
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(src.open(newline="")))
    a = [r for r in rows if r["program"] in PROGRAMS_A]
    b = [r for r in rows if r["program"] not in PROGRAMS_A]
    for name, part in (("a-train", a), ("a-test", b), ("b-train", b), ("b-test", a)):
        with (out / f"{name}.csv").open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["program", "source", "log_message", "target_label"], extrasaction="ignore")
            w.writeheader()
            w.writerows(part)
        progs = sorted({r["program"] for r in part})
        print(f"{name}: {len(part)} lines from {', '.join(progs)}", file=sys.stderr)


if __name__ == "__main__":
    main()
