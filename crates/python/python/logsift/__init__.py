"""logsift: classify log lines with rules, a sentence-embedding model, then an LLM.

>>> import logsift
>>> model = logsift.Model.load()              # the bundled default model
>>> model.classify(["Disk /dev/sda1 is 97% full"])
[Decision(label='Resource Usage', tier='model', ...)]
>>> df = model.classify_df(df)                # adds target_label, tier, confidence, detail

The work happens in Rust (the same library as the ``logsift`` command line
tool), with the GIL released; this module adds DataFrames (pandas or polars,
neither required) and ``BadInputError``.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Sequence, Union

from . import _logsift
from ._logsift import Decision, template_id

__all__ = ["Model", "Decision", "BadInputError", "train", "evaluate", "template_id", "__version__"]
__version__ = _logsift.__version__

OUTPUT_COLUMNS = ("target_label", "tier", "confidence", "detail")
TEMPLATE_COLUMNS = ("template", "template_id")


class BadInputError(ValueError):
    """A row logsift cannot use: ``row`` is its 1-based position, ``cause`` what is wrong."""

    def __init__(self, message: str, row: int, cause: str):
        super().__init__(message)
        self.row = row
        self.cause = cause


def _kind(df: Any) -> str:
    mod = type(df).__module__
    if mod.startswith("pandas"):
        return "pandas"
    if mod.startswith("polars"):
        return "polars"
    raise TypeError(f"expected a pandas or polars DataFrame, not {type(df).__name__}")


def _column(df: Any, name: str) -> list:
    kind = _kind(df)
    if name not in df.columns:
        raise KeyError(f"the DataFrame has no column {name!r}; its columns are {list(df.columns)}")
    values = df[name].to_list()
    # Missing values (None, NaN) are bad input, with their row, as in the CLI.
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise BadInputError(f"row {i + 1}: column {name!r} is {v!r}, not a string", i + 1, f"column {name!r} is {v!r}, not a string")
    del kind
    return values


def _with_columns(df: Any, columns: dict) -> Any:
    """A copy of ``df`` with ``columns`` added (an existing column of the same name is replaced)."""
    if _kind(df) == "pandas":
        out = df.copy()
        for k, v in columns.items():
            out[k] = v
        return out
    import polars as pl

    return df.with_columns([pl.Series(k, v) for k, v in columns.items()])


class Model:
    """A model bundle and its cascade (rules, model, LLM)."""

    def __init__(self, inner: "_logsift.Model"):
        self._inner = inner

    @classmethod
    def load(
        cls,
        path: Optional[Union[str, os.PathLike]] = None,
        *,
        encoder_dir: Optional[Union[str, os.PathLike]] = None,
        llm: Optional[dict] = None,
        strict: bool = False,
        cache_size: int = 1 << 16,
        learn_variables: int = 3,
    ) -> "Model":
        """Loads a bundle directory, or the bundled default when ``path`` is None.

        MiniLM weights come from ``encoder_dir``, ``LOGSIFT_MINILM_DIR`` or the
        Hugging Face cache (the bundled default never downloads; without weights it
        falls back to the bundled lexical model with a warning). ``llm`` holds LLM
        settings (``preset``, ``url``, ``model``, ``key_env``, ``batch``, ``timeout``, …)
        over the bundle's ``[llm]`` table; the API key is read from the environment
        variable ``key_env`` names, never passed in. ``learn_variables``: a word
        position that took this many distinct words under one label becomes a
        variable (user names, groups), so new values reuse the decision; 0 turns
        it off (output templates are not affected).
        """
        inner = _logsift.Model.load(
            None if path is None else os.fspath(path),
            encoder_dir=None if encoder_dir is None else os.fspath(encoder_dir),
            llm=llm,
            strict=strict,
            cache_size=cache_size,
            learn_variables=learn_variables,
        )
        return cls(inner)

    name = property(lambda self: self._inner.name, doc="The bundle's name.")
    path = property(lambda self: self._inner.path, doc="Where the bundle was loaded from.")
    encoder = property(lambda self: self._inner.encoder, doc="The encoder's id.")
    threshold = property(lambda self: self._inner.threshold, doc="The confidence the model tier needs.")
    labels = property(lambda self: self._inner.labels, doc="Every label the cascade can give.")
    llm = property(lambda self: self._inner.llm, doc="The LLM asked (MODEL at URL), or None.")

    def classify(
        self,
        messages: Sequence[str],
        sources: Union[None, str, Sequence[str]] = None,
        *,
        with_template: bool = False,
        on_error: str = "fail",
    ) -> list:
        """One :class:`Decision` per message, in order.

        ``on_error="skip"`` makes a bad line (a NUL byte, over 64 KiB) Unclassified
        with the reason instead of raising :class:`BadInputError`.
        """
        return self._inner.classify(messages, sources, with_template=with_template, on_error=on_error)

    def classify_columns(
        self,
        messages: Sequence[str],
        sources: Union[None, str, Sequence[str]] = None,
        *,
        with_template: bool = False,
        on_error: str = "fail",
    ) -> dict:
        """The output columns for ``messages`` as a dict of equal-length lists
        (``target_label``, ``tier``, ``confidence``, ``detail``, and ``template``,
        ``template_id``): what ``classify_df`` adds, without a DataFrame and without
        one object per line."""
        return self._inner.classify_columns(messages, sources, with_template=with_template, on_error=on_error)

    def classify_df(
        self,
        df: Any,
        message: str = "log_message",
        source: Optional[str] = "source",
        *,
        with_template: bool = False,
        on_error: str = "fail",
    ) -> Any:
        """The DataFrame (pandas or polars) with ``target_label``, ``tier``,
        ``confidence`` and ``detail`` added (and ``template``, ``template_id``);
        every other column and the row order are kept. A source column that is
        absent is not an error (the source is then empty)."""
        messages = _column(df, message)
        sources = _column(df, source) if source is not None and source in df.columns else None
        columns = self._inner.classify_columns(messages, sources, with_template=with_template, on_error=on_error)
        return _with_columns(df, columns)

    def patterns(self, messages: Sequence[str], sources: Union[None, str, Sequence[str]] = None, **options: Any) -> list:
        """What happened, grouped: one dict per pattern (``template``, ``count``,
        ``share``, ``sources``, ``examples``, …), most frequent first. Options:
        ``similarity`` (0.7), ``max_patterns`` (10000), ``merge`` ("none",
        "lexical", "minilm"), ``merge_threshold`` (0.9)."""
        return self._inner.patterns(messages, sources, **options)

    def evaluate(self, data: Any, *, label: str = "target_label", message: str = "log_message", source: str = "source") -> dict:
        """``logsift eval --json`` of this model on labeled data (a DataFrame or a CSV path), as a dict."""
        messages, sources, labels = _labeled(data, label, message, source)
        return self._inner.evaluate(messages, labels, sources)

    def __repr__(self) -> str:
        return repr(self._inner)


def _labeled(data: Any, label: str, message: str, source: str):
    if isinstance(data, (str, os.PathLike)):
        return _logsift.read_labeled_csv(os.fspath(data), label, message, source)
    messages = _column(data, message)
    labels = _column(data, label)
    sources = _column(data, source) if source in data.columns else None
    return messages, sources, labels


def train(
    data: Any,
    out_dir: Union[str, os.PathLike],
    *,
    encoder: str = "both",
    rules: Optional[Union[str, os.PathLike]] = None,
    label: str = "target_label",
    message: str = "log_message",
    source: str = "source",
    encoder_dir: Optional[Union[str, os.PathLike]] = None,
    min_samples: int = 1,
    cv: int = 5,
    cv_group: str = "template",
    target_precision: float = 0.98,
    seed: int = 42,
    name: Optional[str] = None,
) -> dict:
    """Trains a model bundle from labeled logs (a DataFrame or a CSV path) into
    ``out_dir``, as ``logsift train`` does; returns a summary dict. ``encoder``:
    "lexical" (no weights), "minilm" or "both" (MiniLM weights as for ``Model.load``,
    downloaded from the Hugging Face Hub if not found)."""
    messages, sources, labels = _labeled(data, label, message, source)
    return _logsift.train(
        messages,
        labels,
        sources,
        os.fspath(out_dir),
        encoder=encoder,
        rules=None if rules is None else os.fspath(rules),
        encoder_dir=None if encoder_dir is None else os.fspath(encoder_dir),
        min_samples=min_samples,
        cv=cv,
        cv_group=cv_group,
        target_precision=target_precision,
        seed=seed,
        name=name,
    )


def evaluate(model: Union["Model", str, os.PathLike, None], data: Any, **options: Any) -> dict:
    """``logsift eval --json`` as a dict: ``model`` is a :class:`Model`, a bundle
    path, or None for the bundled default; ``data`` a DataFrame or a CSV path."""
    if not isinstance(model, Model):
        model = Model.load(model)
    return model.evaluate(data, **options)
