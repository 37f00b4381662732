"""The op catalogue: the single list of what the suite checks.

Families live in their own modules (a family may span several: nn, nn_functions, nn_layers); this
module gathers them and resolves user selections ("add,mul", "reduction", "all").
"""

from __future__ import annotations

from collections.abc import Iterable

from gradcheck_suite.catalogue import (
    complex_numbers,
    indexing,
    indexing_scatter,
    linalg,
    linalg_decompositions,
    nn,
    nn_functions,
    nn_layers,
    pointwise,
    reduction,
    reduction_order,
    shape,
    shape_more,
    special,
)
from gradcheck_suite.catalogue.spec import Domain, Kinks, OpSpec

_FAMILIES = (
    pointwise, special, reduction, reduction_order, shape, shape_more, indexing, indexing_scatter,
    linalg, linalg_decompositions, nn, nn_functions, nn_layers, complex_numbers,
)  # fmt: skip


class UnknownOpError(ValueError):
    """A selection named an op or family that is not in the catalogue."""


def _build() -> dict[str, OpSpec]:
    ops: dict[str, OpSpec] = {}
    for module in _FAMILIES:
        for spec in module.OPS:
            if spec.name in ops:
                raise RuntimeError(f"op {spec.name!r} is described twice in the catalogue")
            ops[spec.name] = spec
    return ops


CATALOGUE: dict[str, OpSpec] = _build()
FAMILIES: dict[str, tuple[str, ...]] = {}
for _spec in CATALOGUE.values():
    FAMILIES[_spec.family] = (*FAMILIES.get(_spec.family, ()), _spec.name)


def get(name: str) -> OpSpec:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownOpError(_unknown_message([name])) from None


def select(names: Iterable[str] | None = None) -> list[OpSpec]:
    """Ops named directly or through their family; ``None`` or ``"all"`` means every op.
    Order follows the catalogue; duplicates collapse."""
    wanted = [n.strip() for n in (names or ["all"]) if n.strip()]
    if not wanted or "all" in wanted:
        return list(CATALOGUE.values())
    unknown = [n for n in wanted if n not in CATALOGUE and n not in FAMILIES]
    if unknown:
        raise UnknownOpError(_unknown_message(unknown))
    chosen = set()
    for n in wanted:
        chosen.update(FAMILIES.get(n, (n,)))
    return [spec for name, spec in CATALOGUE.items() if name in chosen]


def _unknown_message(unknown: list[str]) -> str:
    import difflib

    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, [*CATALOGUE, *FAMILIES], n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"unknown op{'s' if len(unknown) > 1 else ''} {', '.join(hints)}. "
        f"Known ops: {', '.join(CATALOGUE)}. Families: {', '.join(FAMILIES)}, or 'all'."
    )


__all__ = ["CATALOGUE", "FAMILIES", "Domain", "Kinks", "OpSpec", "UnknownOpError", "get", "select"]
