"""Type stubs of logsift's native module."""

from typing import Any, Optional, Sequence, Union

__version__: str

class Decision:
    """One decision: the label, the tier that decided it (rules, model, llm or none),
    its confidence, why, and (with ``with_template=True``) the masked template and its id."""

    label: str
    tier: str
    confidence: float
    detail: str
    template: Optional[str]
    template_id: Optional[str]

class Model:
    @staticmethod
    def load(
        path: Optional[str] = None,
        *,
        encoder_dir: Optional[str] = None,
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
    def patterns(
        self,
        messages: Sequence[str],
        sources: Union[None, str, Sequence[str]] = None,
        *,
        similarity: float = 0.7,
        max_patterns: int = 10000,
        merge: str = "none",
        merge_threshold: float = 0.9,
    ) -> list[dict[str, Any]]: ...
    def evaluate(self, messages: Sequence[str], labels: Sequence[str], sources: Union[None, str, Sequence[str]] = None) -> dict[str, Any]: ...

def read_labeled_csv(
    path: str, label_column: str = "target_label", message_column: str = "log_message", source_column: str = "source"
) -> tuple[list[str], list[str], list[str]]: ...
def train(
    messages: Sequence[str],
    labels: Sequence[str],
    sources: Union[None, str, Sequence[str]],
    out_dir: str,
    *,
    encoder: str = "both",
    rules: Optional[str] = None,
    encoder_dir: Optional[str] = None,
    min_samples: int = 1,
    cv: int = 5,
    cv_group: str = "template",
    target_precision: float = 0.98,
    seed: int = 42,
    name: Optional[str] = None,
) -> dict[str, Any]: ...
def template_id(template: str) -> str: ...
