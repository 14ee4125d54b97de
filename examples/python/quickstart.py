# %% [markdown]
# # logsift from Python: a quick tour
#
# Notebook-style (each `# %%` is a cell; Jupyter and VS Code open it as a
# notebook, `python examples/python/quickstart.py` runs it top to bottom).
# It needs pandas beside the wheel (`pip install ./crates/python pandas`) —
# see the README, "From Python".

# %%
import pathlib
import sys
import tempfile

try:
    import pandas as pd
except ImportError:
    sys.exit("this tour works on pandas DataFrames: pip install pandas, then run it again")

import logsift

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# %% [markdown]
# ## Load the bundled model and classify a DataFrame
# `Model.load()` with no path is the model that ships in the wheel. It finds
# the MiniLM weights as the CLI does (`LOGSIFT_MINILM_DIR`,
# `~/.cache/logsift/all-MiniLM-L6-v2`, the Hugging Face cache) and never downloads them; without them it says so and uses the
# bundled lexical model.

# %%
model = logsift.Model.load()
print(model)

logs = pd.read_csv(ROOT / "examples" / "test.csv")
labeled = model.classify_df(logs, with_template=True)
print(labeled[["source", "log_message", "target_label", "tier", "confidence"]].to_string(max_colwidth=60))

# %% [markdown]
# Every input column and the row order are kept; four columns are added
# (`target_label`, `tier`, `confidence`, `detail`) and, with
# `with_template=True`, the line's masked template and its stable id.

# %%
assert list(labeled["log_message"]) == list(logs["log_message"])
print(labeled["target_label"].value_counts().to_string())

# %% [markdown]
# ## Group by template id
# The id is a hash of the masked template: the same on every run and machine,
# so a pipeline can route or count by it.

# %%
by_template = labeled.groupby("template_id").agg(lines=("log_message", "size"), template=("template", "first"))
print(by_template.sort_values("lines", ascending=False).head().to_string(max_colwidth=70))

# %% [markdown]
# ## One line at a time, and what the model was unsure of

# %%
for d in model.classify(["Disk /dev/sda1 is 97% full", "User alice logged in"], sources="web"):
    print(d.label, d.tier, round(d.confidence, 3), d.detail or "-")

# %% [markdown]
# ## What happened, grouped

# %%
for p in model.patterns(logs["log_message"].tolist())[:5]:
    print(p["count"], p["template"])

# %% [markdown]
# ## Train your own model and evaluate it
# Any DataFrame with `source`, `log_message` and `target_label` will do; here,
# the corpus the bundled model learned from. Hold out whole templates, not
# random lines: a random split puts a near-copy of most test lines in
# training and flatters every model. `encoder="lexical"` needs no weights and
# trains in seconds; the default, `"both"`, adds MiniLM.

# %%
corpus = pd.read_csv(ROOT / "corpus" / "train.csv")
ids = model.classify_df(corpus[["source", "log_message"]], with_template=True)["template_id"]
unseen = ids.str[-1].isin(list("0123"))  # a quarter of the templates
train_part, test_part = corpus[~unseen], corpus[unseen]
with tempfile.TemporaryDirectory() as out:
    summary = logsift.train(train_part, out, encoder="lexical", cv=0)
    print({k: summary[k] for k in ("rows", "templates", "encoder")})
    mine = logsift.Model.load(out)
    figures = mine.evaluate(test_part)
    print(f"accuracy {figures['accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f} on {figures['rows']} lines")
    assert figures["rows"] == len(test_part)

# %% [markdown]
# ## Bad input is an exception that names the row

# %%
try:
    model.classify(["fine", "a NUL \x00 byte"])
except logsift.BadInputError as e:
    print(f"row {e.row}: {e.cause}")
