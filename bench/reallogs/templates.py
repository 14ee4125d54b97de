#!/usr/bin/env python3
"""Templates per program against the message formats the programs really
have: how many distinct templates logsift makes of each program's lines, how
many of them reach the model, and how many merge two formats of different
labels (a merge that would give one of them the wrong label).

    python3 bench/reallogs/templates.py [--logsift target/release/logsift] [--model models/lexical] [--data reallogs.csv]

The reference is formats.tsv: one row per message format (the program's
message with its run-time values written `<*>`), each event assigned the
matching format with the most literal text; an event no format matches is an
error. `--data` may also be a stream from stream.py, whose events are the
capture's with fresh values, so the same formats hold.

Columns: formats (of the program, seen in the data); masked templates (the
output's `template` column of `logsift classify --with-template`, the
bundle's masking); to the model (what `classify` reports it asked the model
about when run on the program's lines alone, with the default learned
variables, logsift_core::learn: a stream of that program's cost in
embeddings); mined patterns (`logsift patterns --json --encoder none` per
program). Each with its ratio to the format count. Merges: masked templates,
and mined patterns, holding lines of two labels.
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


def load_formats(path):
    """{program: [(format, compiled regex, literal length)]}."""
    by = collections.defaultdict(list)
    for line in open(path):
        if line.startswith("#") or line.startswith("program\t") or not line.strip():
            continue
        program, fmt = line.rstrip("\n").split("\t")
        parts = fmt.split("<*>")
        rx = re.compile("(?s)" + ".*?".join(re.escape(p) for p in parts) + r"\Z")
        by[program].append((fmt, rx, sum(len(p) for p in parts)))
    return by


def format_of(formats, program, message):
    best = None
    for fmt, rx, lit in formats.get(program, ()):
        if (best is None or lit > best[1]) and rx.match(message):
            best = (fmt, lit)
    if best is None:
        raise SystemExit(f"formats.tsv: no format of {program} matches {message[:200]!r}")
    return best[0]


def ratio(mined, formats):
    """The mined-patterns cells: count and ratio, or dashes when not mined."""
    return f"{mined} | {mined / formats:.2f}" if mined else "— | —"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logsift", default=os.path.join(HERE, "..", "..", "target", "release", "logsift"))
    ap.add_argument("--model", default="models/lexical")
    ap.add_argument("--data", default=os.path.join(HERE, "reallogs.csv"))
    ap.add_argument("--formats", default=os.path.join(HERE, "formats.tsv"))
    ap.add_argument("--learn-variables", default=None, help="passed to classify for the 'to the model' column")
    ap.add_argument("--no-mined", action="store_true", help="skip the template miner (slow on long streams)")
    a = ap.parse_args()
    formats = load_formats(a.formats)
    rows = list(csv.DictReader(open(a.data, newline="")))
    # formats.tsv covers capture.sh's programs; capture-services.sh's have no
    # format rows yet, so their lines are left out of these counts.
    without = sorted({r["program"] for r in rows} - set(formats))
    if without:
        print(f"templates.py: no formats.tsv rows for {', '.join(without)}: left out", file=sys.stderr)
        rows = [r for r in rows if r["program"] in formats]
    memo = {}
    for r in rows:
        key = (r["program"], r["log_message"])
        if key not in memo:
            memo[key] = format_of(formats, *key)
        r["format"] = memo[key]
    with tempfile.TemporaryDirectory() as tmp:
        if without:
            a.data = os.path.join(tmp, "data.csv")
            with open(a.data, "w", newline="") as h:
                w = csv.DictWriter(h, fieldnames=list(rows[0].keys()))
                w.writeheader()
                w.writerows(rows)
        out = os.path.join(tmp, "out.csv")
        subprocess.run([a.logsift, "classify", a.data, "--model", a.model, "--with-template", "-q", "-o", out], check=True, stderr=subprocess.DEVNULL)
        masked = [r["template"] for r in csv.DictReader(open(out, newline=""))]
        by = collections.defaultdict(list)
        for r, t in zip(rows, masked):
            by[r["program"]].append((r, t))
        print("| program | lines | formats | masked templates | × | to the model (learned variables) | × | mined patterns | × | merges across labels (masked / mined) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        totals = [0] * 7
        over = []
        for p in sorted(by):
            items = by[p]
            fmts = {r["format"] for r, _ in items}
            tmpl = collections.defaultdict(set)
            for r, t in items:
                tmpl[t].add(r["target_label"])
            bad_masked = sum(1 for labels in tmpl.values() if len(labels) > 1)
            f = os.path.join(tmp, "p.csv")
            with open(f, "w", newline="") as h:
                w = csv.writer(h)
                w.writerow(["source", "log_message", "target_label"])
                for r, _ in items:
                    w.writerow([r["source"], r["log_message"], r["target_label"]])
            run = subprocess.run([a.logsift, "classify", f, "--model", a.model, "-o", os.devnull] + (["--learn-variables", a.learn_variables] if a.learn_variables else []), capture_output=True, text=True, check=True)
            asked = int(re.search(r"model asked about (\d+) distinct templates", run.stderr).group(1))
            if a.no_mined:
                mined, bad_mined = 0, 0
            else:
                v = json.loads(subprocess.run([a.logsift, "patterns", f, "--json", "--encoder", "none"], capture_output=True, text=True, check=True).stdout)
                mined = len(v["patterns"])
                bad_mined = sum(1 for x in v["patterns"] if len(x.get("labels", {})) > 1)
            n = len(fmts)
            totals = [x + y for x, y in zip(totals, [len(items), n, len(tmpl), asked, mined, bad_masked, bad_mined])]
            if asked > 1.3 * n:
                over.append(p)
            print(f"| {p} | {len(items)} | {n} | {len(tmpl)} | {len(tmpl) / n:.2f} | {asked} | {asked / n:.2f} | {ratio(mined, n)} | {bad_masked} / {bad_mined} |")
        n, fm, mk, ak, mi, bm, bi = totals
        print(f"| all | {n} | {fm} | {mk} | {mk / fm:.2f} | {ak} | {ak / fm:.2f} | {ratio(mi, fm)} | {bm} / {bi} |")
        print(f"\nprograms above 1.3× formats in what reaches the model: {', '.join(over) or 'none'}")


if __name__ == "__main__":
    sys.exit(main())
