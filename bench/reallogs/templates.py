#!/usr/bin/env python3
"""Templates per program: how many distinct templates logsift's masking (and
the template miner after it) makes of each program's lines in reallogs.csv,
against the hand-labelled templates of templates.tsv (the `template_id`
column), and how many of logsift's templates mix two hand templates of
different labels (a merge that would give one of them the wrong label).

    python3 bench/reallogs/templates.py [--logsift target/release/logsift] [--model models/default]

Masked templates come from `logsift classify --with-template` (the bundle's
masking: the output's `template` column); "to the model" is what `classify`
reports it asked the model about when run on the program's lines alone, with
the default learned variables (logsift_core::learn), which is what a stream
of that program costs in embeddings; mined ones from
`logsift patterns --json --encoder none` run per program.
"""

import argparse
import collections
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logsift", default=os.path.join(HERE, "..", "..", "target", "release", "logsift"))
    ap.add_argument("--model", default="models/lexical")
    ap.add_argument("--data", default=os.path.join(HERE, "reallogs.csv"))
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.data, newline="")))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.csv")
        subprocess.run([a.logsift, "classify", a.data, "--model", a.model, "--with-template", "-q", "-o", out], check=True, stderr=subprocess.DEVNULL)
        masked = [r["template"] for r in csv.DictReader(open(out, newline=""))]
        by = collections.defaultdict(list)
        for r, t in zip(rows, masked):
            by[r["program"]].append((r, t))
        print("| program | lines | formats (hand) | masked templates | × | to the model (learned variables) | × | mined patterns | × | merges across labels (masked / mined) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        totals = [0, 0, 0, 0, 0, 0, 0]
        for p in sorted(by):
            items = by[p]
            formats = {r["template_id"] for r, _ in items}
            label_of = {r["template_id"]: r["target_label"] for r, _ in items}
            tmpl = collections.defaultdict(set)
            for r, t in items:
                tmpl[t].add(r["template_id"])
            bad_masked = sum(1 for ids in tmpl.values() if len({label_of[i] for i in ids}) > 1)
            f = os.path.join(tmp, "p.csv")
            with open(f, "w", newline="") as h:
                w = csv.writer(h)
                w.writerow(["source", "log_message", "target_label"])
                for r, _ in items:
                    w.writerow([r["source"], r["log_message"], r["target_label"]])
            v = json.loads(subprocess.run([a.logsift, "patterns", f, "--json", "--encoder", "none"], capture_output=True, text=True, check=True).stdout)
            run = subprocess.run([a.logsift, "classify", f, "--model", a.model, "-o", os.devnull], capture_output=True, text=True, check=True)
            asked = int(re.search(r"model asked about (\d+) distinct templates", run.stderr).group(1))
            mined = len(v["patterns"])
            bad_mined = sum(1 for x in v["patterns"] if len(x.get("labels", {})) > 1)
            totals = [x + y for x, y in zip(totals, [len(items), len(formats), len(tmpl), asked, mined, bad_masked, bad_mined])]
            print(f"| {p} | {len(items)} | {len(formats)} | {len(tmpl)} | {len(tmpl) / len(formats):.1f} | {asked} | {asked / len(formats):.1f} | {mined} | {mined / len(formats):.1f} | {bad_masked} / {bad_mined} |")
        n, fm, mk, ak, mi, bm, bi = totals
        print(f"| all | {n} | {fm} | {mk} | {mk / fm:.1f} | {ak} | {ak / fm:.1f} | {mi} | {mi / fm:.1f} | {bm} / {bi} |")


if __name__ == "__main__":
    sys.exit(main())
