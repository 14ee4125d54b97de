"""The Python API on the bundled example and model (a real wheel, real models)."""

import csv
import json
import os
import subprocess
import threading

import pytest

import logsift
from conftest import need


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_bundled_default_classifies_the_bundled_example(root, model):
    data = rows(root / "examples" / "test.csv")
    decisions = model.classify([r["log_message"] for r in data], [r["source"] for r in data])
    assert len(decisions) == len(data)
    labels = set(model.labels) | {"Unclassified"}
    for d in decisions:
        assert d.label in labels
        assert d.tier in {"rules", "model", "llm", "none"}
        assert 0.0 <= d.confidence <= 1.0
    # The same lines through the CLI's answer, when the binary is at hand.
    exe = os.environ.get("LOGSIFT_BIN")
    if not exe:
        need("LOGSIFT_BIN (the logsift binary)", "cargo build --bin logsift; export LOGSIFT_BIN=target/debug/logsift")
    if model.encoder != "lexical-v1+minilm-l6-v2":
        need("the MiniLM weights", "export LOGSIFT_MINILM_DIR=$(scripts/fetch-minilm.sh)")
    out = subprocess.run([exe, "classify", str(root / "examples" / "test.csv"), "-q"], capture_output=True, text=True, check=True).stdout
    cli = list(csv.DictReader(out.splitlines()))
    assert [(r["target_label"], r["tier"]) for r in cli] == [(d.label, d.tier) for d in decisions]


def test_a_single_string_source_applies_to_every_line(model):
    a = model.classify(["Disk /dev/sda1 is 97% full", "GET /api/v2/users 200"], "web")
    b = model.classify(["Disk /dev/sda1 is 97% full", "GET /api/v2/users 200"], ["web", "web"])
    assert a == b


def test_a_dataframe_keeps_every_other_column_and_the_row_order(root, model):
    pd = pytest.importorskip("pandas") if not os.environ.get("CI") else __import__("pandas")
    df = pd.read_csv(root / "examples" / "test.csv")
    df.insert(0, "id", range(len(df) - 1, -1, -1))
    df["extra"] = [f"x{i}" for i in range(len(df))]
    out = model.classify_df(df)
    assert list(out.columns) == list(df.columns) + ["target_label", "tier", "confidence", "detail"]
    assert out["id"].tolist() == df["id"].tolist()
    assert out["extra"].tolist() == df["extra"].tolist()
    assert out["log_message"].tolist() == df["log_message"].tolist()
    direct = model.classify(df["log_message"].tolist(), df["source"].tolist())
    assert out["target_label"].tolist() == [d.label for d in direct]
    assert out["confidence"].tolist() == [round(d.confidence, 4) for d in direct]
    assert "target_label" not in df.columns, "the input DataFrame is not changed"


def test_polars_works_too(root, model):
    if not os.environ.get("CI"):
        pl = pytest.importorskip("polars")
    else:
        import polars as pl
    df = pl.read_csv(root / "examples" / "test.csv").with_row_index("n")
    out = model.classify_df(df, with_template=True)
    assert out.columns == df.columns + ["target_label", "tier", "confidence", "detail", "template", "template_id"]
    assert out["n"].to_list() == list(range(len(df)))


def test_bad_input_is_an_exception_with_the_row_and_cause(model):
    with pytest.raises(logsift.BadInputError) as e:
        model.classify(["fine", "fine", "nul\x00here"])
    assert e.value.row == 3 and "NUL byte" in e.value.cause
    with pytest.raises(logsift.BadInputError) as e:
        model.classify(["fine", None])
    assert e.value.row == 2 and "NoneType" in e.value.cause
    with pytest.raises(logsift.BadInputError) as e:
        model.classify(["x" * 70_000])
    assert e.value.row == 1 and "over the limit" in e.value.cause
    # The run goes on when asked: the bad line is Unclassified with its reason.
    d = model.classify(["fine", "nul\x00here"], on_error="skip")
    assert d[1].label == "Unclassified" and "NUL byte" in d[1].detail
    with pytest.raises(ValueError):
        model.classify(["x"], on_error="maybe")
    with pytest.raises(TypeError):
        model.classify("one string, not a list")
    with pytest.raises(ValueError):
        logsift.Model.load("/nonexistent/bundle")
    with pytest.raises(ValueError, match="unknown field"):
        logsift.Model.load(llm={"presett": "groq"})


def test_a_missing_value_in_a_dataframe_names_its_row(model):
    pd = __import__("pandas") if os.environ.get("CI") else pytest.importorskip("pandas")
    df = pd.DataFrame({"source": ["a", "b"], "log_message": ["ok", None]})
    with pytest.raises(logsift.BadInputError) as e:
        model.classify_df(df)
    assert e.value.row == 2
    with pytest.raises(KeyError):
        model.classify_df(df, message="msg")


def test_template_ids_are_stable_and_shared_by_lines_of_one_template(model):
    d = model.classify(
        ["Accepted password for alice from 10.0.0.7 port 52144 ssh2", "Accepted password for alice from 10.0.0.9 port 40022 ssh2"],
        with_template=True,
    )
    assert d[0].template == d[1].template and d[0].template_id == d[1].template_id
    assert d[0].template_id == logsift.template_id(d[0].template)
    # Pinned: the same value the Rust test pins (SHA-256, first 8 bytes).
    assert logsift.template_id("user <*> logged in") == "65231b8dd946c2d8"
    assert model.classify(["x"])[0].template is None


def test_patterns_group_lines_of_one_format(model):
    # (Names after `user` are masked already; the miner finds what masking leaves.)
    p = model.patterns(["job alpha finished in time", "job beta finished in time", "job gamma finished in time", "disk /dev/sda1 full"])
    assert p[0]["count"] == 3 and "<*>" in p[0]["template"]
    assert sum(x["count"] for x in p) == 4


def test_train_then_evaluate_gives_the_cli_figures(root, tmp_path, labeled_csv):
    summary = logsift.train(labeled_csv, tmp_path / "bundle", encoder="lexical", cv=0)
    assert summary["encoder"] == "lexical-v1" and summary["rows"] > 1000
    m = logsift.Model.load(tmp_path / "bundle")
    assert "Security Alert" in m.labels
    figures = logsift.evaluate(m, labeled_csv)
    assert figures["rows"] > 1000 and figures["accuracy"] > 0.9
    exe = os.environ.get("LOGSIFT_BIN")
    if not exe:
        need("LOGSIFT_BIN (the logsift binary)", "cargo build --bin logsift; export LOGSIFT_BIN=target/debug/logsift")
    out = subprocess.run(
        [exe, "eval", str(labeled_csv), "--model", str(tmp_path / "bundle"), "--json"], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == figures


def test_train_takes_a_dataframe(tmp_path, labeled_csv):
    pd = __import__("pandas") if os.environ.get("CI") else pytest.importorskip("pandas")
    df = pd.read_csv(labeled_csv).head(3000)
    logsift.train(df, tmp_path / "b", encoder="lexical", cv=0)
    assert logsift.Model.load(tmp_path / "b").evaluate(df)["rows"] == 3000


def test_classification_releases_the_gil(model):
    lines = [f"user u{i} logged in from 10.0.{i % 250}.{i % 200}" for i in range(200_000)]
    ticks = [0]
    running = threading.Event()
    done = threading.Event()

    def tick():
        running.set()
        while not done.is_set():
            ticks[0] += 1

    t = threading.Thread(target=tick)
    t.start()
    running.wait()
    before = ticks[0]
    model.classify(lines)
    during = ticks[0] - before
    done.set()
    t.join()
    # Holding the GIL for the whole call would leave the other thread no
    # bytecode to run until it returned.
    assert during > 10_000, during


def test_learned_variables_can_be_turned_off_and_bad_values_are_refused(root):
    # Names of letters only, where masking's `users` kind does not look (`of NAME`).
    names = ["carol", "dave", "erin", "frank", "grace", "heidi"]
    lines = [f"sshd: Accepted password of {name} from 10.0.0.1 port 22" for name in names]
    on = logsift.Model.load(root / "models" / "lexical")
    off = logsift.Model.load(root / "models" / "lexical", learn_variables=0)
    # One line a call, as a stream arrives.
    got_on = [on.classify([line])[0] for line in lines]
    got_off = [off.classify([line])[0] for line in lines]
    assert all(d.label in on.labels for d in got_on + got_off)
    # Learning on: once three names took one label, the name is a variable and
    # the later lines reuse one decision. Off: each name is a template of its
    # own, decided on its own (its words differ, so its confidence does).
    later_on = {(d.label, d.tier, d.confidence) for d in got_on[3:]}
    later_off = {(d.label, d.tier, d.confidence) for d in got_off[3:]}
    assert len(later_on) == 1, got_on
    assert len(later_off) == 3, got_off
    with pytest.raises(OverflowError):
        logsift.Model.load(root / "models" / "lexical", learn_variables=-1)
