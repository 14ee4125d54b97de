#!/usr/bin/env python3
"""The peer on template-grouped cross-validation: scikit-learn's TF-IDF of
character 2-4-grams + LogisticRegression, 5 folds grouped by logsift's masked
template (every line of a template on one side), as `logsift eval FILE --cv 5
--split template` groups them; every line answered.

    SKLEARN_PYTHON bench/reallogs/tfidf_cv.py FILE [LOGSIFT_BINARY]

Prints accuracy and macro-F1 over the labels, pooled over the folds.
"""
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[2]
data = sys.argv[1]
binary = sys.argv[2] if len(sys.argv) > 2 else str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release/logsift")
rows = list(csv.DictReader(open(data, newline="")))
with tempfile.TemporaryDirectory() as tmp:
    src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "log_message"])
        w.writerows([r["source"], r["log_message"]] for r in rows)
    subprocess.run([binary, "classify", str(src), "--model", str(ROOT / "models/lexical"), "--with-template", "-q", "-o", str(out)], check=True)
    groups = [r["template"] for r in csv.DictReader(open(out, newline=""))]
text = [r["log_message"] for r in rows]
y = [r["target_label"] for r in rows]
pred = [None] * len(rows)
for train, test in GroupKFold(5).split(text, y, groups):
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    lr = LogisticRegression(max_iter=1000).fit(vec.fit_transform([text[i] for i in train]), [y[i] for i in train])
    for i, p in zip(test, lr.predict(vec.transform([text[i] for i in test]))):
        pred[i] = p
print(f"{data}: TF-IDF char 2-4 + LR, template-grouped 5-fold: accuracy {accuracy_score(y, pred):.3f}, "
      f"macro-F1 {f1_score(y, pred, average='macro'):.3f}")
