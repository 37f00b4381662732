"""Helpers to run one program on torch and on the reference engine and compare what a
user could observe: values, dtypes, shapes, flags, node names, gradients, errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import reference


def observe(value: Any) -> Any:
    """A comparable description of a program's result."""
    if isinstance(value, (torch.Tensor, reference.Tensor)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reading .grad of a non-leaf warns
            grad = value.grad
        return {
            "values": value.detach().numpy().copy(),
            "dtype": str(value.dtype),
            "shape": tuple(value.shape),
            "requires_grad": value.requires_grad,
            "is_leaf": value.is_leaf,
            "grad_fn": None if value.grad_fn is None else type(value.grad_fn).__name__,
            "grad": None if grad is None else observe(grad),
        }
    if isinstance(value, (list, tuple)):
        return [observe(v) for v in value]
    if isinstance(value, dict):
        return {k: observe(v) for k, v in value.items()}
    if isinstance(value, (torch.Size, reference.Size)):
        return tuple(value)
    if isinstance(value, (torch.dtype, reference.dtype)):
        return str(value)
    if hasattr(value, "next_functions"):  # a graph node: compared by its name
        return f"node {type(value).__name__}"
    return value


def attempt(program: Callable[[Any], Any], module: Any) -> Any:
    try:
        return observe(program(module))
    except Exception as exc:  # noqa: BLE001 - errors are part of the behaviour compared
        return {"raised": type(exc).__name__, "message": str(exc)}


def assert_same(got: Any, want: Any, path: str = "result", rtol: float = 1e-6) -> None:
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{path}: reference gave {got!r}, torch an array"
        assert got.shape == want.shape, f"{path}: shape {got.shape} != torch's {want.shape}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True, err_msg=path)
    elif isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: reference gave {got!r}, torch {want!r}"
        assert got.keys() == want.keys(), f"{path}: keys {sorted(got)} != torch's {sorted(want)}"
        for k in want:
            assert_same(got[k], want[k], f"{path}.{k}", rtol)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: reference gave {got!r}, torch {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]", rtol)
    else:
        assert got == want, f"{path}: reference gave {got!r}, torch gave {want!r}"


@pytest.fixture
def both() -> Callable[..., Any]:
    """``both(program)`` runs ``program(torch)`` and ``program(reference)`` and asserts that
    everything observable agrees; returns torch's observation."""

    def run(program: Callable[[Any], Any], rtol: float = 1e-6) -> Any:
        want = attempt(program, torch)
        got = attempt(program, reference)
        assert_same(got, want, rtol=rtol)
        return want

    return run


@pytest.fixture
def same() -> Callable[[Any, Any], None]:
    """``same(reference_value, torch_value)``: assert both observe alike."""
    return lambda got, want: assert_same(observe(got), observe(want))
