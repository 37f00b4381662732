"""Forward-mode AD with dual tensors, as ``torch.autograd.forward_ad``.

Inside ``with dual_level():``, ``make_dual(x, t)`` gives a tensor carrying the tangent
``t``; every op applied to it computes its output's tangent at once with the op's ``jvp``
rule (written beside its forward and backward), and ``unpack_dual(y).tangent`` reads it.
Leaving the level drops every tangent made inside it.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

NO_LEVEL_MESSAGE = (
    "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
)

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _Level:
    """One dual level; tangents tagged with a closed level are gone."""

    __slots__ = ("index", "open")

    def __init__(self, index: int) -> None:
        self.index = index
        self.open = True


_levels: list[_Level] = []


def current_level() -> _Level | None:
    """The innermost open level, or None (checked by every op: keep it cheap)."""
    return _levels[-1] if _levels else None


def enter_dual_level() -> int:
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append(_Level(len(_levels)))
    return _levels[-1].index


def exit_dual_level(*, level: int | None = None) -> None:
    if not _levels:
        raise RuntimeError("Dual level must be a positive number.")
    if level is not None and level != _levels[-1].index:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created.")
    _levels.pop().open = False


class dual_level:  # noqa: N801 - torch's name
    """Context manager for a forward-AD level: ``with dual_level(): ...``."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of ``tensor`` (same data) whose tangent is ``tangent``."""
    from reference.tensor import Tensor

    lvl = current_level()
    if lvl is None:
        raise RuntimeError(NO_LEVEL_MESSAGE)
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not isinstance(tangent, Tensor):  # torch fails on the attribute lookup
        raise AttributeError(f"'{type(tangent).__name__}' object has no attribute 'is_floating_point'")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, "
            f"this is not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient "
            f"is of size {list(tangent.shape)}."
        )
    from reference.ops.shape import alias

    dual = alias(tensor)
    dual._fw = (lvl, tangent)
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``; the primal is a view without the tangent, tangent may be None."""
    from reference.ops.shape import alias

    tangent = get_tangent(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    primal = alias(tensor)
    primal._fw = None
    return UnpackedDualTensor(primal, tangent)


def get_tangent(tensor: Any) -> Any:
    """The tensor's tangent at the open level, or None."""
    fw = tensor._fw
    if fw is None or not fw[0].open:
        return None
    return fw[1]


__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]
