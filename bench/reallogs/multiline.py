#!/usr/bin/env python3
"""Multi-line events: the JVM and Python services of the real-log benchmark
written out as the plain text they logged (one event's lines after another),
then read back by `logsift classify` with `--multiline auto` and `off`.

    python3 bench/reallogs/multiline.py [--logsift target/release/logsift] [--model models/default]

Reports, for each program: input lines, events in the capture, records out,
how many records out are exactly one captured event (same first line, same
span), and accuracy against the hand labels (per event with `auto`; per
line with `off`, each line scored against its event's label).
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logsift", default=os.path.join(HERE, "..", "..", "target", "release", "logsift"))
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--programs", default="billing,shopd")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(HERE, "reallogs.csv"), newline="")))
    print("| program | lines in | events (capture) | mode | records out | = a captured event | sum of `lines` | accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for prog in a.programs.split(","):
            events = [r for r in rows if r["program"] == prog]
            path = os.path.join(tmp, prog + ".log")
            starts = {}  # first line number -> (span, label)
            label_of_line = []
            n = 0
            with open(path, "w") as f:
                for e in events:
                    lines = e["log_message"].split("\n")
                    starts[n + 1] = (len(lines), e["target_label"])
                    for ln in lines:
                        f.write(ln + "\n")
                        label_of_line.append(e["target_label"])
                    n += len(lines)
            for mode in ("auto", "off"):
                out = subprocess.run([a.logsift, "classify", path, "--model", a.model, "--multiline", mode, "-q"],
                                     capture_output=True, text=True, check=True).stdout
                recs = [json.loads(x) for x in out.splitlines()]
                if mode == "auto":
                    exact = sum(1 for r in recs if starts.get(r["line"], (0, ""))[0] == r["lines"])
                    spans = sum(r["lines"] for r in recs)
                    right = sum(1 for r in recs if r["target_label"] == label_of_line[r["line"] - 1])
                else:
                    exact = sum(1 for i, r in enumerate(recs) if starts.get(i + 1, (0, ""))[0] == 1)
                    spans = len(recs)
                    right = sum(1 for i, r in enumerate(recs) if r["target_label"] == label_of_line[i])
                print(f"| {prog} | {n} | {len(events)} | {mode} | {len(recs)} | {exact} | {spans} | {right / len(recs):.3f} |")


if __name__ == "__main__":
    sys.exit(main())
