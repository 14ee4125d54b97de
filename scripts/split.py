#!/usr/bin/env python3
"""Split a labeled CSV into train/test files, at random or by masked template.

usage: split.py DATA.csv TRAIN.csv TEST.csv [--test-share 0.2] [--seed 42] [--by-template]

--by-template keeps every line of a template (numbers, hex ids and UUIDs
masked) on one side, so the test side holds only templates the model has not
seen. Rows are written in their input order; the header is kept.
"""
import argparse
import csv
import random
import re

MASK = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-fA-F]{32}\b|\d+(?:\.\d+)?")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--test-share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--by-template", action="store_true")
    a = ap.parse_args()
    with open(a.data, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    msg = header.index("log_message")
    rng = random.Random(a.seed)
    if a.by_template:
        keys = sorted({MASK.sub("<*>", r[msg]) for r in body})
        rng.shuffle(keys)
        test_keys = set(keys[: round(len(keys) * a.test_share)])
        is_test = [MASK.sub("<*>", r[msg]) in test_keys for r in body]
    else:
        idx = list(range(len(body)))
        rng.shuffle(idx)
        chosen = set(idx[: round(len(body) * a.test_share)])
        is_test = [i in chosen for i in range(len(body))]
    for path, side in ((a.train, False), (a.test, True)):
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(r for r, t in zip(body, is_test) if t == side)


if __name__ == "__main__":
    main()
