"""Catalogue ops as source code: the body of an op's ``fn`` lambda, with ``ns`` renamed to
``torch``, tensor parameters to program variables and kwargs to literals.

Generated programs must print as scripts that run unchanged on torch and on an engine
(``import torch`` or ``import reference as torch``), so a program step is source text,
and the catalogue stays the one place an op is written.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import warnings
from typing import Any

import numpy as np

from gradcheck_suite.catalogue.spec import OpSpec


class NoSourceError(Exception):
    """The op's fn is not a lambda whose source can be found."""


@functools.cache
def _lambda(spec: OpSpec) -> ast.Lambda:
    """The op's fn as a lambda AST: a lambda as written, or a ``def`` whose body is one
    ``return <expression>`` (docstring aside)."""
    fn = spec.engine_fn or spec.fn
    code = getattr(fn, "__code__", None)
    if code is None:
        raise NoSourceError(spec.name)
    try:
        module_source = inspect.getsource(inspect.getmodule(fn))
    except (OSError, TypeError):
        raise NoSourceError(spec.name) from None
    params = code.co_varnames[: code.co_argcount]
    found = []
    for node in ast.walk(ast.parse(module_source)):
        if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno:
            found.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name == fn.__name__ and _def_line(node) == code.co_firstlineno:
            returned = _single_return(node)
            if returned is not None:
                found.append(ast.Lambda(args=node.args, body=returned))
    found = [n for n in found if tuple(a.arg for a in n.args.args) == params]
    if len(found) != 1:
        raise NoSourceError(spec.name)
    lam = found[0]
    lam.body = _Inline(_helpers(module_source)).visit(lam.body)
    allowed = {"torch", "np", *_BUILTINS, *(a.arg for a in lam.args.args)}
    if lam.args.kwarg:
        allowed.add(lam.args.kwarg.arg)
    free = _free_names(lam.body) - allowed
    if free:  # names a standalone script would not have
        raise NoSourceError(f"{spec.name}: uses {sorted(free)}")
    return lam


@functools.cache
def _helpers(module_source: str) -> dict[str, ast.FunctionDef]:
    """Module-level functions whose body is one ``return <expression>``: inlinable."""
    out = {}
    for node in ast.parse(module_source).body:
        if isinstance(node, ast.FunctionDef) and not node.decorator_list and _single_return(node) is not None:
            out[node.name] = node
    return out


def _single_return(node: ast.FunctionDef) -> ast.expr | None:
    body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Return):
        return body[0].value
    return None


class _Inline(ast.NodeTransformer):
    """``_f(ns).relu(a)`` -> ``ns.nn.functional.relu(a)``: calls of single-return helpers of
    the catalogue module are replaced by their bodies, arguments substituted."""

    def __init__(self, helpers: dict[str, ast.FunctionDef], depth: int = 0) -> None:
        self.helpers, self.depth = helpers, depth

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        helper = self.helpers.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if helper is None or self.depth > 4 or any(isinstance(a, ast.Starred) for a in node.args):
            return node
        params = [a.arg for a in helper.args.args]
        defaults = dict(zip(params[len(params) - len(helper.args.defaults) :], helper.args.defaults))
        bound = {**defaults, **dict(zip(params, node.args)), **{k.arg: k.value for k in node.keywords if k.arg}}
        if set(bound) != set(params) or helper.args.vararg or helper.args.kwarg:
            return node
        body = _Substitute(bound).visit(ast.parse(ast.unparse(_single_return(helper)), mode="eval").body)
        return _Inline(self.helpers, self.depth + 1).visit(body)


class _Substitute(ast.NodeTransformer):
    def __init__(self, bound: dict[str, ast.expr]) -> None:
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self.bound.get(node.id, node)


def _free_names(expr: ast.AST) -> set[str]:
    """Names an expression reads, less those its comprehensions and lambdas bind."""
    used = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(expr) if isinstance(n, ast.Lambda) for a in n.args.args}
    return used - bound


_BUILTINS = {"range", "slice", "tuple", "list", "len", "int", "float", "min", "max", "enumerate", "zip", "sum", "abs"}


def _def_line(node: ast.FunctionDef) -> int:
    """The line CPython reports as a function's first line (its first decorator, if any)."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def literal(value: Any) -> str:
    """Python source for a kwarg value: NumPy arrays as ``np.array([...])``, infinities and
    NaN as ``float('inf')``, containers element by element."""
    if isinstance(value, np.ndarray):
        text = f"np.array({value.tolist()!r}, dtype=np.{value.dtype})"
        # an empty array's list loses its shape ([] for (0, 2, 2, 0)): say it
        return f"{text}.reshape({value.shape!r})" if value.size == 0 and value.ndim != 1 else text
    if isinstance(value, np.generic):
        return literal(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, tuple):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(literal(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            return ast.copy_location(ast.parse(self.names[node.id], mode="eval").body, node)
        return node


class _ExpandKwargs(ast.NodeTransformer):
    """``f(x, **kw)`` -> ``f(x, a=1, b=2)`` with the drawn kwargs not named by the lambda."""

    def __init__(self, name: str | None, kwargs: dict) -> None:
        self.name, self.kwargs = name, kwargs

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        expanded = []
        for kw in node.keywords:
            if kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == self.name:
                expanded += [
                    ast.keyword(arg=k, value=ast.parse(literal(v), mode="eval").body) for k, v in self.kwargs.items()
                ]
            else:
                expanded.append(kw)
        node.keywords = expanded
        return node


class _FoldConstantBranches(ast.NodeTransformer):
    """``a if 1 is None else b`` -> ``b``: once kwargs are literals, keep the branch taken."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        if any(isinstance(n, ast.Name) for n in ast.walk(node.test)):
            return node
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)  # `1 is None` is what we fold away
                taken = eval(compile(ast.Expression(node.test), "<kwargs>", "eval"), {"__builtins__": {}})
        except Exception:  # noqa: BLE001 - anything unexpected: keep the expression as it is
            return node
        return node.body if taken else node.orelse


def expression(spec: OpSpec, args: list[str], kwargs: dict) -> str:
    """Source of ``spec`` applied to the variables ``args`` with ``kwargs``, e.g. ``t0 * t1``;
    an op whose fn cannot be written out is called through the catalogue
    (``op('max_dim').fn(torch, t0, dim=1)``, which needs gradcheck_suite to run)."""
    try:
        lam = _lambda(spec)
    except NoSourceError:
        call_args = ["torch", *args, *(f"{k}={literal(v)}" for k, v in kwargs.items())]
        return f"op({spec.name!r}).fn({', '.join(call_args)})"
    params = [a.arg for a in lam.args.args]
    names = {params[0]: "torch", **dict(zip(params[1:], args))}
    for p in params[1 + len(args) :]:
        if p in kwargs:
            names[p] = literal(kwargs[p])
    rest = {k: v for k, v in kwargs.items() if k not in params}
    var_keyword = lam.args.kwarg.arg if lam.args.kwarg else None
    body = ast.parse(ast.unparse(lam.body), mode="eval")
    body = _Rename(names).visit(_ExpandKwargs(var_keyword, rest).visit(body))
    return ast.unparse(_FoldConstantBranches().visit(body))


def has_source(spec: OpSpec) -> bool:
    try:
        _lambda(spec)
    except NoSourceError:
        return False
    return True


def script(lines: list[str], engine_import: str = "import torch") -> str:
    """A standalone script: the imports, then the program's lines."""
    imports = ["import numpy as np", engine_import]
    if any("op(" in line for line in lines):
        imports.append(CATALOGUE_IMPORT)
    return "\n".join([*imports, "", *lines]) + "\n"


CATALOGUE_IMPORT = "from gradcheck_suite.catalogue import get as op"


__all__ = ["NoSourceError", "expression", "has_source", "literal", "script"]
