"""Type stubs of logsift."""

import os
from typing import Any, Optional, Sequence, Union

from ._logsift import Decision as Decision
from ._logsift import template_id as template_id

__version__: str

class BadInputError(ValueError):
    row: int
    cause: str
    def __init__(self, message: str, row: int, cause: str) -> None: ...

class Model:
    @classmethod
    def load(
        cls,
        path: Optional[Union[str, os.PathLike]] = None,
        *,
        encoder_dir: Optional[Union[str, os.PathLike]] = None,
        llm: Optional[dict] = None,
        strict: bool = False,
        cache_size: int = ...,
        learn_variables: int = ...,
    ) -> "Model": ...
    name: str
    path: str
    encoder: str
    threshold: float
    labels: list[str]
    llm: Optional[str]
    def classify(
        self, messages: Sequence[str], sources: Union[None, str, Sequence[str]] = None, *, with_template: bool = False, on_error: str = "fail"
    ) -> list[Decision]: ...
    def classify_columns(
        self, messages: Sequence[str], sources: Union[None, str, Sequence[str]] = None, *, with_template: bool = False, on_error: str = "fail"
    ) -> dict[str, list[Any]]: ...
    def classify_df(
        self, df: Any, message: str = "log_message", source: Optional[str] = "source", *, with_template: bool = False, on_error: str = "fail"
    ) -> Any: ...
    def patterns(self, messages: Sequence[str], sources: Union[None, str, Sequence[str]] = None, **options: Any) -> list[dict[str, Any]]: ...
    def evaluate(self, data: Any, *, label: str = "target_label", message: str = "log_message", source: str = "source") -> dict[str, Any]: ...

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
) -> dict[str, Any]: ...
def evaluate(model: Union[Model, str, os.PathLike, None], data: Any, **options: Any) -> dict[str, Any]: ...
