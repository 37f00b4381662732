"""Engines under test: adapters that run catalogue ops and compute derivatives (the
``Engine`` protocol in protocol.py). ``reference`` is the default.

An engine is named on the command line (``--engine``) as:
- a built-in adapter: ``reference``, ``torch`` (torch checked against itself and finite
  differences), ``autograd`` (HIPS autograd, the optional ``autograd`` extra);
- an adapter a package registers under the entry point group ``gradcheck_suite.engines``;
- ``module:attribute`` for your own: an Engine instance, or a class or function returning one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.engines.protocol import Engine, check_engine

ENTRY_POINT_GROUP = "gradcheck_suite.engines"


class UnknownEngineError(ValueError):
    """An engine name that no adapter is registered for, or a module:attribute that does not load."""


def _reference() -> MirrorEngine:
    import reference

    return MirrorEngine("reference", reference, OpSpec.call_engine, reference.__version__)


def _torch() -> MirrorEngine:
    import torch

    # Checked through the catalogue's torch description, exactly as the oracle runs it: the same
    # code as the oracle, so the numerical reference alone judges its derivatives.
    return MirrorEngine("torch", torch, OpSpec.call_torch, torch.__version__, independent_of_torch=False)


def _autograd() -> Engine:
    from gradcheck_suite.engines.hips import HipsAutogradEngine

    return HipsAutogradEngine()


BUILTIN: dict[str, Callable[[], Engine]] = {"reference": _reference, "torch": _torch, "autograd": _autograd}


def registered() -> dict[str, Callable[[], Any]]:
    """Built-in adapters, then those installed packages register (built-ins win a clash)."""
    found: dict[str, Callable[[], Any]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.load)
    return {**found, **BUILTIN}


def _instantiate(obj: Any, origin: str) -> Engine:
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "forward")):
        try:
            obj = obj()
        except Exception as exc:
            raise UnknownEngineError(f"{origin} could not be created: {type(exc).__name__}: {exc}") from exc
    try:
        return check_engine(obj, origin)
    except TypeError as exc:
        raise UnknownEngineError(str(exc)) from None


def _from_path(spec: str) -> Engine:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UnknownEngineError(f"engine {spec!r}: expected module:attribute, e.g. mypkg.adapters:ENGINE")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - whatever a user's module raises on import is a usage error
        raise UnknownEngineError(
            f"engine {spec!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UnknownEngineError(f"engine {spec!r}: module {module_name!r} has no attribute {attr!r}") from None
    return _instantiate(obj, f"engine {spec!r}")


def get_engine(spec: str = "reference") -> Engine:
    """The adapter named by ``spec`` (a registered name or ``module:attribute``)."""
    if ":" in spec:
        return _from_path(spec)
    known = registered()
    if spec not in known:
        raise UnknownEngineError(f"unknown engine {spec!r}; known engines: {', '.join(known)}, or module:attribute")
    try:
        obj = known[spec]()  # a built-in factory makes the engine; an entry point loads its target...
    except ImportError as exc:
        hint = " (pip install 'gradcheck-suite[autograd]')" if spec == "autograd" else ""
        raise UnknownEngineError(f"engine {spec!r} is not available: {exc}{hint}") from None
    except Exception as exc:  # noqa: BLE001 - a broken entry point or factory is a usage error, not ours
        raise UnknownEngineError(f"engine {spec!r} could not be loaded: {type(exc).__name__}: {exc}") from None
    if spec not in BUILTIN:
        return _instantiate(obj, f"engine {spec!r} (entry point)")  # ...which may be a class or factory
    return obj


__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "Engine", "MirrorEngine", "UnknownEngineError", "get_engine", "registered"]
