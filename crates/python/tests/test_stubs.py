"""The type stubs agree with what they describe.

Two stubs describe two layers: ``logsift/__init__.pyi`` the package users
import (``logsift/__init__.py``), ``logsift/_logsift.pyi`` the native module
under it. Each is checked against the signatures of the objects it
describes, and the methods both layers share are checked against each other,
so a parameter added, renamed or made keyword-only in one place and not the
others fails here.
"""

import ast
import inspect

import logsift
from logsift import _logsift

KINDS = {
    "posonly": inspect.Parameter.POSITIONAL_ONLY,
    "args": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "vararg": inspect.Parameter.VAR_POSITIONAL,
    "kwonly": inspect.Parameter.KEYWORD_ONLY,
    "kwarg": inspect.Parameter.VAR_KEYWORD,
}


def stub_functions(path):
    """{"name" or "Class.name": [(param, kind, default or None)]} of a stub file."""
    tree = ast.parse(path.read_text())
    out = {}

    def params(fn):
        a = fn.args
        got = []
        positional = a.posonlyargs + a.args
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        for i, (p, d) in enumerate(zip(positional, defaults)):
            kind = "posonly" if i < len(a.posonlyargs) else "args"
            got.append((p.arg, kind, d))
        if a.vararg:
            got.append((a.vararg.arg, "vararg", None))
        for p, d in zip(a.kwonlyargs, a.kw_defaults):
            got.append((p.arg, "kwonly", d))
        if a.kwarg:
            got.append((a.kwarg.arg, "kwarg", None))
        return [(n, k, d) for n, k, d in got if n not in ("self", "cls")]

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = params(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out[f"{node.name}.{item.name}"] = params(item)
    return out


def runtime(module, qualname):
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def check_layer(stub, module):
    for name, params in stub.items():
        sig = inspect.signature(runtime(module, name))
        real = [(p.name, p.kind, p.default) for p in sig.parameters.values() if p.name not in ("self", "cls")]
        assert [(n, KINDS[k]) for n, k, _ in params] == [(n, k) for n, k, _ in real], f"{module.__name__}.{name}: stub {params} vs {sig}"
        for (n, _, d), (_, _, default) in zip(params, real):
            # A literal default in the stub is the function's default; `...` says "see the code".
            if isinstance(d, ast.Constant) and d.value is not Ellipsis:
                assert d.value == default, f"{module.__name__}.{name}({n}): stub default {d.value!r}, real {default!r}"


def test_the_package_stub_is_the_package(root):
    stub = stub_functions(root / "crates/python/python/logsift/__init__.pyi")
    assert {"Model.load", "Model.classify", "Model.classify_df", "train", "evaluate"} <= stub.keys()
    check_layer(stub, logsift)


def test_the_native_stub_is_the_native_module(root):
    stub = stub_functions(root / "crates/python/python/logsift/_logsift.pyi")
    assert {"Model.load", "Model.classify", "train", "template_id"} <= stub.keys()
    check_layer(stub, _logsift)


def test_the_layers_agree_where_they_share_a_method(root):
    top = stub_functions(root / "crates/python/python/logsift/__init__.pyi")
    native = stub_functions(root / "crates/python/python/logsift/_logsift.pyi")
    names = lambda ps: [(n, k) for n, k, _ in ps]  # noqa: E731
    for shared in ("Model.classify", "Model.classify_columns"):
        assert names(top[shared]) == names(native[shared]), shared
    # load: the same options (the package also takes os.PathLike paths).
    assert names(top["Model.load"]) == names(native["Model.load"])
    # train: every option of the native layer is an option of the package's.
    kw = lambda ps: {n for n, k, _ in ps if k == "kwonly"}  # noqa: E731
    assert kw(native["train"]) <= kw(top["train"]), kw(native["train"]) - kw(top["train"])
