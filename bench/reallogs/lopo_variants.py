#!/usr/bin/env python3
"""Leave-one-program-out, fast: which changes to the head's recipe would
generalise to programs it never saw, before any is built into logsift.

    LOGSIFT_MINILM_DIR=... python3 bench/reallogs/lopo_variants.py [VARIANT ...]
        [--logsift BIN] [--programs sshd,su]

Run it with a Python that has scikit-learn and numpy. The folds are
lopo.py's: each program of reallogs.csv tested with a head trained on the
other programs' lines and the corpus without the lines written in its
formats (the `imitates` column). What differs is the head: here scikit-learn's
LogisticRegression on each distinct (template, label) pair, weighted by its
lines and balanced by label (as `logsift train` weighs them), over the
template's MiniLM embedding (`logsift embed`, computed once for every
template) beside a TF-IDF of its character 2-4-grams (standing in for the
lexical encoder). One fold takes seconds, not the two minutes of a `logsift
train`, so a variant over 33 folds takes about two minutes.

The stand-in is not logsift: its baseline (`base`) scores accuracy 0.559,
macro-F1 0.562, mean over programs 0.680 where lopo.py's default recipe
scores 0.541 / 0.501 / 0.668 (BENCHMARKS.md has each variant's figures). Compare each variant with `base`, run in the
same invocation; build into logsift only what wins here, and measure it there
with lopo.py.

Variants (default: all):
  base       line-count weights, C = 10 (logsift's default)
  sqrt, log, one   weights sqrt(lines), 1 + ln(lines), 1 per template
  knn3, knn5       the head's probabilities blended (0.3, 0.5) with a vote of
                   the 10 nearest training templates by embedding cosine
                   (softmax of similarity / 0.05)
  prior      per-source priors: the test program's label shares estimated by
             EM on its own lines (Saerens et al. 2002), shrunk halfway to uniform
  desc       the label descriptions (corpus/labels.toml) as training text, each
             weighted as the label's median template
  c1, c03, c3      C = 1, 0.3, 3
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ["base", "sqrt", "log", "one", "knn3", "knn5", "prior", "desc", "c1", "c03", "c3"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def templates_of(binary, rows, work, name):
    """Each row's masked template, as the default bundle masks."""
    src, out = work / f"{name}-in.csv", work / f"{name}-out.csv"
    with open(src, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["source", "log_message"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    subprocess.run([binary, "classify", str(src), "--model", str(ROOT / "models/default"), "--with-template", "-q", "-o", str(out)], check=True)
    got = [r["template"] for r in read(out)]
    assert len(got) == len(rows)
    return got


def embed(binary, texts, work):
    """MiniLM embeddings of `texts` (JSON Lines in, so a template may hold newlines)."""
    src, out = work / "texts.jsonl", work / "emb.jsonl"
    with open(src, "w") as f:
        for t in texts:
            f.write(json.dumps({"log_message": t}) + "\n")
    subprocess.run([binary, "embed", str(src), "-o", str(out)], check=True, stderr=subprocess.DEVNULL)
    vecs = [json.loads(line)["embedding"] for line in open(out)]
    assert len(vecs) == len(texts)
    return np.array(vecs, dtype=np.float32)


def macro_f1(truth, pred):
    f1s = []
    for label in set(truth):
        tp = sum(1 for a, b in zip(truth, pred) if a == label and b == label)
        fp = sum(1 for a, b in zip(truth, pred) if a != label and b == label)
        fn = sum(1 for a, b in zip(truth, pred) if a == label and b != label)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    ap.add_argument("variants", nargs="*", metavar="VARIANT", help="default: all (" + ", ".join(VARIANTS) + ")")
    ap.add_argument("--logsift", default=str(Path(target) / "release" / "logsift"))
    ap.add_argument("--programs", help="only these (comma-separated)")
    args = ap.parse_args()
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        sys.exit(f"no such variant: {', '.join(sorted(unknown))} (known: {', '.join(VARIANTS)})")
    args.variants = args.variants or VARIANTS

    real = read(ROOT / "bench/reallogs/reallogs.csv")
    corpus = read(ROOT / "corpus/train.csv")
    descriptions = tomllib.loads((ROOT / "corpus/labels.toml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rt = templates_of(args.logsift, real, work, "real")
        ct = templates_of(args.logsift, corpus, work, "corpus")
        texts = sorted(set(rt) | set(ct)) + sorted(descriptions.values())
        emb = embed(args.logsift, texts, work)
    index = {t: i for i, t in enumerate(texts)}
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(texts).transform(texts)
    both = hstack([tfidf, csr_matrix(emb)]).tocsr()
    labels = sorted({r["target_label"] for r in real} | {r["target_label"] for r in corpus})
    label_index = {l: i for i, l in enumerate(labels)}
    programs = sorted({r["program"] for r in real})
    if args.programs:
        programs = [p for p in programs if p in args.programs.split(",")]
    print(f"{len(programs)} programs held out in turn; {len(texts)} distinct texts embedded", file=sys.stderr)

    def run(name, weight=lambda n: n, c=10.0, knn=0.0, prior=False, desc=False):
        truth, pred, per_program = [], [], {}
        for p in programs:
            pairs = Counter()
            for rows, temps, out in ((corpus, ct, lambda r: p in r["imitates"].split()), (real, rt, lambda r: r["program"] == p)):
                pairs.update((index[t], label_index[r["target_label"]]) for r, t in zip(rows, temps) if not out(r))
            keys = list(pairs)
            idx = np.array([k[0] for k in keys])
            y = np.array([k[1] for k in keys])
            w = np.array([weight(pairs[k]) for k in keys], dtype=float)
            if desc:
                med = {l: float(np.median(w[y == l])) for l in set(y)}
                extra = [(index[d], label_index[l]) for l, d in descriptions.items() if label_index.get(l) in med]
                idx = np.concatenate([idx, [e[0] for e in extra]])
                y = np.concatenate([y, [e[1] for e in extra]])
                w = np.concatenate([w, [med[e[1]] for e in extra]])
            per_label = defaultdict(float)
            for yy, ww in zip(y, w):
                per_label[yy] += ww
            total = sum(per_label.values())
            sw = np.array([ww * total / (len(per_label) * per_label[yy]) for yy, ww in zip(y, w)])
            lr = LogisticRegression(C=c, max_iter=300).fit(both[idx], y, sample_weight=sw)
            test = [(r, t) for r, t in zip(real, rt) if r["program"] == p]
            ti = np.array([index[t] for _, t in test])
            prob = np.zeros((len(ti), len(labels)))
            prob[:, lr.classes_] = lr.predict_proba(both[ti])
            if knn:
                sims = emb[ti] @ emb[idx].T
                vote = np.zeros_like(prob)
                for j, near in enumerate(np.argsort(-sims, axis=1)[:, :10]):
                    for m in near:
                        vote[j, y[m]] += math.exp(sims[j, m] / 0.05)
                vote /= vote.sum(1, keepdims=True)
                prob = (1 - knn) * prob + knn * vote
            if prior:
                uniform = np.ones(len(labels)) / len(labels)
                pi = uniform.copy()
                for _ in range(20):
                    adj = prob * (pi / uniform)
                    adj /= adj.sum(1, keepdims=True)
                    pi = 0.5 * adj.mean(0) + 0.5 * uniform
                prob = adj
            got = prob.argmax(1)
            want = [label_index[r["target_label"]] for r, _ in test]
            per_program[p] = float(np.mean(np.array(want) == got))
            truth += want
            pred += list(got)
        acc = float(np.mean(np.array(truth) == np.array(pred)))
        print(f"| {name} | {acc:.3f} | {macro_f1(truth, pred):.3f} | {np.mean(list(per_program.values())):.3f} |", flush=True)

    print("| variant | accuracy | macro-F1 | mean of programs |\n|---|---|---|---|", flush=True)
    table = {
        "base": dict(),
        "sqrt": dict(weight=math.sqrt),
        "log": dict(weight=lambda n: 1 + math.log(n)),
        "one": dict(weight=lambda n: 1.0),
        "knn3": dict(knn=0.3),
        "knn5": dict(knn=0.5),
        "prior": dict(prior=True),
        "desc": dict(desc=True),
        "c1": dict(c=1.0),
        "c03": dict(c=0.3),
        "c3": dict(c=3.0),
    }
    for v in args.variants:
        run(v, **table[v])


if __name__ == "__main__":
    main()
