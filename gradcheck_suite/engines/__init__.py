"""Engines under test. Each is an adapter that can make tensors from NumPy arrays,
call catalogue ops, and compute vector-Jacobian products; ``reference`` is the default."""

from __future__ import annotations

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines.mirror import MirrorEngine


class UnknownEngineError(ValueError):
    """An engine name that no adapter is registered for."""


def _reference() -> MirrorEngine:
    import reference

    return MirrorEngine("reference", reference, OpSpec.call_engine, reference.__version__)


ENGINES = {"reference": _reference}


def get_engine(name: str = "reference") -> MirrorEngine:
    try:
        factory = ENGINES[name]
    except KeyError:
        raise UnknownEngineError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}") from None
    return factory()


__all__ = ["ENGINES", "MirrorEngine", "UnknownEngineError", "get_engine"]
