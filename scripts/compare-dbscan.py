#!/usr/bin/env python3
"""Template mining (`logsift rules mine`) against DBSCAN over MiniLM embeddings
as a way to find rule candidates in a labeled log file.

The Python projects logsift descends from cluster all-MiniLM-L6-v2 embeddings
of the messages with DBSCAN (cosine distance, eps 0.2, min_samples 1) and
read the large clusters to write regexes by hand. This script measures both
methods on the same folds:

* whole file: groups with at least --min-support lines and label purity 1.0
  (what a reviewer would turn into rules), the lines they cover, and the
  lines in large groups that mix labels;
* 5 folds, random and template-grouped (lines masked by digit runs): each
  method learns its groups on the training side only and is applied to the
  held-out side (mined rules as regexes via `logsift eval`; a DBSCAN group
  takes a held-out line within eps of one of its members, as DBSCAN would
  have put it there); reported: share of held-out lines taken and their
  accuracy.

Usage: scripts/compare-dbscan.py [DATA.csv]   (default: the codebasics file)
Needs numpy and scikit-learn (`pip install numpy scikit-learn`), the release
binary (`cargo build --release`) and the MiniLM weights ($LOGSIFT_MINILM_DIR
or scripts/fetch-minilm.sh). The data is read where it lies, never copied
into the repository.
"""

import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

import numpy as np
from sklearn.cluster import DBSCAN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "logsift")
EPS, MIN_SUPPORT, FOLDS, SEED = 0.2, 5, 5, 42


def run(*args):
    return subprocess.run([BIN, *args], check=True, capture_output=True, text=True).stdout


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def groups_of(labels_idx, y):
    """Clusters with ≥ MIN_SUPPORT lines: (pure ones {cluster: label}, lines in pure, lines in mixed)."""
    members = defaultdict(list)
    for i, c in enumerate(labels_idx):
        members[c].append(i)
    pure, covered, mixed = {}, 0, 0
    for c, m in members.items():
        if len(m) < MIN_SUPPORT:
            continue
        labs = Counter(y[i] for i in m)
        if len(labs) == 1:
            pure[c] = next(iter(labs))
            covered += len(m)
        else:
            mixed += len(m)
    return pure, covered, mixed


def dbscan(emb):
    return DBSCAN(eps=EPS, min_samples=1, metric="cosine").fit(emb).labels_


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "codebasics", "synthetic_logs.csv")
    with open(data, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    col = {name: i for i, name in enumerate(header)}
    msgs = [r[col["log_message"]] for r in rows]
    y = [r[col["target_label"]] for r in rows]
    n = len(rows)
    tmp = tempfile.mkdtemp()

    emb_file = os.path.join(tmp, "emb.jsonl")
    run("embed", data, "--encoder", "minilm", "-o", emb_file)
    with open(emb_file) as f:
        emb = np.array([json.loads(line)["embedding"] for line in f], dtype=np.float32)
    assert len(emb) == n

    print(f"{data}: {n} lines; groups need ≥{MIN_SUPPORT} lines and one label\n")
    print("| method | groups kept | lines covered | lines in large mixed groups | a regex to review |")
    print("|---|---|---|---|---|")
    mined = os.path.join(tmp, "mined.toml")
    out = subprocess.run([BIN, "rules", "mine", data, "-o", mined], check=True, capture_output=True, text=True).stderr
    m = re.search(r"(\d+) rules from \d+ lines; they match (\d+) lines", out)
    print(f"| rules mine (templates) | {m.group(1)} | {m.group(2)} ({100 * int(m.group(2)) / n:.1f}%) | 0 (purity is required) | yes |")
    pure, covered, mixed = groups_of(dbscan(emb), y)
    print(f"| DBSCAN (eps {EPS}, cosine, MiniLM) | {len(pure)} | {covered} ({100 * covered / n:.1f}%) | {mixed} | no |")

    masked = [re.sub(r"\d+", "<N>", s) for s in msgs]
    print("\nHeld-out folds: share of held-out lines each method takes, and their accuracy\n")
    print("| split | method | lines taken | accuracy on them |")
    print("|---|---|---|---|")
    for split in ("random", "template"):
        rnd = random.Random(SEED)
        if split == "random":
            order = list(range(n))
            rnd.shuffle(order)
            fold = {i: k % FOLDS for k, i in enumerate(order)}
        else:
            keys = sorted(set(masked))
            rnd.shuffle(keys)
            fk = {t: k % FOLDS for k, t in enumerate(keys)}
            fold = {i: fk[masked[i]] for i in range(n)}
        taken = {"mine": [0, 0], "dbscan": [0, 0]}
        for f in range(FOLDS):
            tr = [i for i in range(n) if fold[i] != f]
            te = [i for i in range(n) if fold[i] == f]
            # Mined rules, applied by logsift's rules tier.
            tr_csv, te_csv = os.path.join(tmp, "tr.csv"), os.path.join(tmp, "te.csv")
            write(tr_csv, header, [rows[i] for i in tr])
            write(te_csv, header, [rows[i] for i in te])
            rules = os.path.join(tmp, f"r{f}.toml")
            run("rules", "mine", tr_csv, "-o", rules)
            model = os.path.join(tmp, f"m{f}")
            run("train", tr_csv, "-o", model, "--encoder", "lexical", "--rules", rules)
            ev = json.loads(run("eval", te_csv, "--model", model, "--json"))
            taken["mine"][0] += ev["tier_accuracy"]["rules"]["lines"]
            taken["mine"][1] += ev["tier_accuracy"]["rules"]["correct"]
            # DBSCAN groups of the training side; a held-out line joins the
            # group of its nearest training member when within eps.
            labels_idx = dbscan(emb[tr])
            pure, _, _ = groups_of(labels_idx, [y[i] for i in tr])
            keep = [j for j, c in enumerate(labels_idx) if c in pure]
            if not keep:
                continue
            sims = emb[te] @ emb[[tr[j] for j in keep]].T
            best = sims.argmax(axis=1)
            for row, i in enumerate(te):
                if 1.0 - sims[row, best[row]] <= EPS:
                    taken["dbscan"][0] += 1
                    taken["dbscan"][1] += pure[labels_idx[keep[best[row]]]] == y[i]
        for method, name in (("mine", "rules mine (templates)"), ("dbscan", "DBSCAN groups")):
            lines, right = taken[method]
            acc = f"{right / lines:.4f}" if lines else "—"
            print(f"| {split} | {name} | {lines} ({100 * lines / n:.1f}%) | {acc} ({lines - right} wrong) |")


if __name__ == "__main__":
    main()
