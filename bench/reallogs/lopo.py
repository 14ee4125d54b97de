#!/usr/bin/env python3
"""Leave-one-program-out: the real-log benchmark's held-out figures.

    python3 bench/reallogs/lopo.py [--logsift BIN] [--encoder both|lexical|auto]
                                   [--programs sshd,su] [--json OUT] [--shipped]

Each program of reallogs.csv is tested with a bundle trained, by the default
recipe (scripts/build-default-model.sh's flags), on

* the other programs' lines, and
* logsift's corpus (corpus/train.csv) without the lines written in the
  program's formats: its `imitates` column names them, family by family and
  phrasing by phrasing, so holding a program out holds its imitations out.

So every test line comes from a program no line of training comes from, in
its formats or any imitation of them. Programs share libraries (PAM writes
the same lines under su, sudo, runuser and cron), and a team's other programs
would share them too: lines whose masked template and label also occur in
the fold's training are counted, per source (corpus / other programs), and
shown beside each figure; a corpus twin left means a tag is missing.

Figures, the LLM off: per program its lines, accuracy, lines Unclassified,
share of lines answered confidently and their precision; pooled over all
programs (each line decided by its own fold's bundle): accuracy, macro-F1 over
labels, Unclassified, precision of confident labels; and the mean of the
programs' accuracies. `--shipped` adds the bundled `models/default` on each
program: it was trained on every captured program, so that column is a
training-set figure, not a held-out one.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write(path, rows, truth=True):
    cols = ["source", "log_message"] + (["target_label"] if truth else [])
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def classify(binary, model, rows, work, name):
    """Each row's (label, tier, guessed, template) from `logsift classify`."""
    src, out = work / f"{name}-in.csv", work / f"{name}-out.csv"
    write(src, rows, truth=False)
    subprocess.run([binary, "classify", str(src), "--model", str(model), "--with-template", "-q", "-o", str(out)], check=True)
    got = read(out)
    assert len(got) == len(rows), f"{name}: {len(got)} rows back for {len(rows)}"
    return [(g["target_label"], g["tier"], "best guess" in g.get("detail", ""), g["template"]) for g in got]


def tfidf(train, test):
    """The peer's labels for `test`, every line answered (tier "model")."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    x = vec.fit_transform([r["log_message"] for r in train])
    lr = LogisticRegression(max_iter=1000).fit(x, [r["target_label"] for r in train])
    return [(label, "model", False, "") for label in lr.predict(vec.transform([r["log_message"] for r in test]))]


def figures(truth, got):
    n = len(truth)
    right = sum(t == g[0] for t, g in zip(truth, got))
    unclassified = sum(g[1] == "unclassified" for g in got)
    confident = [(t, g) for t, g in zip(truth, got) if g[1] != "unclassified" and not g[2]]
    f1s = []
    for label in sorted(set(truth)):
        tp = sum(t == label and g[0] == label for t, g in zip(truth, got))
        fp = sum(t != label and g[0] == label for t, g in zip(truth, got))
        fn = sum(t == label and g[0] != label for t, g in zip(truth, got))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {
        "lines": n,
        "accuracy": right / n,
        "macro_f1": sum(f1s) / len(f1s),
        "unclassified": unclassified,
        "confident_share": len(confident) / n,
        "confident_precision": (sum(t == g[0] for t, g in confident) / len(confident)) if confident else None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    ap.add_argument("--logsift", default=str(Path(target) / "release" / "logsift"))
    ap.add_argument("--encoder", default="both")
    ap.add_argument("--programs", help="only these (comma-separated)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--shipped", action="store_true", help="add models/default as shipped")
    ap.add_argument("--lines", help="write every test line's answer here (CSV)")
    ap.add_argument("--train-arg", action="append", default=[], metavar="ARG",
                    help="one more argument to each fold's `logsift train` (repeat: --train-arg=--c --train-arg=1)")
    ap.add_argument("--tfidf", action="store_true",
                    help="add the peer: scikit-learn's TF-IDF of character 2-4-grams + LogisticRegression, "
                         "trained on the same lines (run this script with a Python that has scikit-learn)")
    ap.add_argument("--data", default=str(ROOT / "bench/reallogs/reallogs.csv"))
    ap.add_argument("--corpus", default=str(ROOT / "corpus/train.csv"))
    args = ap.parse_args()

    real = read(args.data)
    corpus = read(args.corpus)
    if "imitates" not in corpus[0]:
        sys.exit(f"{args.corpus} has no imitates column: regenerate it (scripts/build-default-model.sh)")
    programs = sorted({r["program"] for r in real})
    if args.programs:
        wanted = args.programs.split(",")
        unknown = set(wanted) - set(programs)
        if unknown:
            sys.exit(f"no such program in {args.data}: {', '.join(sorted(unknown))}")
        programs = [p for p in programs if p in wanted]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Templates, for the twin counts, as the default bundle masks.
        masks = ROOT / "models/default"
        real_t = [g[3] for g in classify(args.logsift, masks, real, work, "real")]
        corpus_t = [g[3] for g in classify(args.logsift, masks, corpus, work, "corpus")]
        per, pooled_truth, pooled_got, shipped_got, tfidf_got, answers = {}, [], [], [], [], []
        for p in programs:
            test = [r for r in real if r["program"] == p]
            test_t = [t for r, t in zip(real, real_t) if r["program"] == p]
            others = [r for r in real if r["program"] != p]
            kept = [r for r in corpus if p not in r["imitates"].split()]
            seen_corpus = {(t, r["target_label"]) for r, t in zip(corpus, corpus_t) if p not in r["imitates"].split()}
            seen_real = {(t, r["target_label"]) for r, t in zip(real, real_t) if r["program"] != p}
            write(work / "corpus.csv", kept)
            write(work / "others.csv", others)
            bundle = work / f"bundle-{p}"
            cmd = [args.logsift, "train", str(work / "corpus.csv"), str(work / "others.csv"), "-o", str(bundle),
                   "--encoder", args.encoder, "--rules", str(ROOT / "corpus/rules.toml"),
                   "--descriptions", str(ROOT / "corpus/labels.toml"), "--seed", "42", "--cv-group", "source"] + args.train_arg
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            got = classify(args.logsift, bundle, test, work, p)
            truth = [r["target_label"] for r in test]
            f = figures(truth, got)
            f["corpus_lines_left_out"] = len(corpus) - len(kept)
            f["twins_in_corpus"] = sum((t, r["target_label"]) in seen_corpus for r, t in zip(test, test_t))
            f["twins_in_other_programs"] = sum((t, r["target_label"]) in seen_real for r, t in zip(test, test_t))
            f["labels"] = dict(Counter(truth))
            if args.shipped:
                s = classify(args.logsift, ROOT / "models/default", test, work, f"{p}-shipped")
                f["shipped_accuracy"] = figures(truth, s)["accuracy"]
                shipped_got += s
            if args.tfidf:
                t = tfidf(kept + others, test)
                f["tfidf_accuracy"] = figures(truth, t)["accuracy"]
                tfidf_got += t
            per[p] = f
            pooled_truth += truth
            pooled_got += got
            answers += [(p, r["log_message"], t, g[0], g[1], g[2]) for r, t, g in zip(test, truth, got)]
            print(f"{p}: {f['lines']} lines, accuracy {f['accuracy']:.3f}, corpus twins {f['twins_in_corpus']}", file=sys.stderr)
        pooled = figures(pooled_truth, pooled_got)
        pooled["mean_program_accuracy"] = sum(f["accuracy"] for f in per.values()) / len(per)
        if args.shipped:
            pooled["shipped"] = figures(pooled_truth, shipped_got)
        if args.tfidf:
            pooled["tfidf"] = figures(pooled_truth, tfidf_got)
            pooled["tfidf"]["mean_program_accuracy"] = sum(f["tfidf_accuracy"] for f in per.values()) / len(per)
        out = {"encoder": args.encoder, "programs": per, "pooled": pooled}

    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    if args.lines:
        with open(args.lines, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["program", "log_message", "target_label", "answer", "tier", "guessed"])
            w.writerows(answers)
    ship = (" | as shipped (trained on it)" if args.shipped else "") + (" | TF-IDF + LR" if args.tfidf else "")
    print(f"| program | lines | accuracy | Unclassified | confident | their precision | twins: corpus / other programs{ship} |")
    print("|---|---|---|---|---|---|---|" + ("---|" if args.shipped else "") + ("---|" if args.tfidf else ""))
    for p, f in per.items():
        cp = "–" if f["confident_precision"] is None else f"{f['confident_precision']:.3f}"
        extra = (f" | {f['shipped_accuracy']:.3f}" if args.shipped else "") + (f" | {f['tfidf_accuracy']:.3f}" if args.tfidf else "")
        print(f"| {p} | {f['lines']} | {f['accuracy']:.3f} | {f['unclassified']} | {f['confident_share']:.1%} | {cp} "
              f"| {f['twins_in_corpus']} / {f['twins_in_other_programs']}{extra} |")
    cp = pooled["confident_precision"]
    print(f"\npooled over {len(per)} programs ({pooled['lines']} lines): accuracy {pooled['accuracy']:.3f}, "
          f"macro-F1 {pooled['macro_f1']:.3f}, Unclassified {pooled['unclassified']}, "
          f"confident {pooled['confident_share']:.1%} at precision {cp:.3f}; "
          f"mean of the programs' accuracies {pooled['mean_program_accuracy']:.3f}")
    if args.shipped:
        s = pooled["shipped"]
        print(f"models/default as shipped (trained on these lines): accuracy {s['accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}")
    if args.tfidf:
        s = pooled["tfidf"]
        print(f"TF-IDF + LR, same folds: accuracy {s['accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}, "
              f"mean of the programs' accuracies {s['mean_program_accuracy']:.3f}")


if __name__ == "__main__":
    main()
