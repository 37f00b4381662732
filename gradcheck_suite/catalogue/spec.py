"""How one op is described: ``OpSpec`` and the input ``Domain``s it is checked on.

An op is written once, against the torch API (``fn(ns, *tensors, **kwargs)`` where
``ns`` is ``torch`` or an engine module mirroring it). Strategies, oracles, engines
and reports all read these descriptions; nothing else lists ops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Domain:
    """Where an input's values are drawn from, without rejection sampling.

    ``low <= x <= high``; with ``symmetric`` the magnitude is drawn from [low, high]
    and the sign separately, which keeps values away from a pole at zero.
    """

    low: float
    high: float
    symmetric: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"Domain needs low < high, got [{self.low}, {self.high}]")
        if self.symmetric and self.low <= 0:
            raise ValueError(f"a symmetric Domain needs a positive lower magnitude, got {self.low}")

    def elements(self) -> st.SearchStrategy[float]:
        magnitude = st.floats(self.low, self.high, allow_nan=False, allow_infinity=False)
        if not self.symmetric:
            return magnitude
        return st.one_of(magnitude, magnitude.map(lambda x: -x))

    def __str__(self) -> str:
        interval = f"[{self.low:g}, {self.high:g}]"
        return self.name or (f"±{interval}" if self.symmetric else interval)


REAL = Domain(-3.0, 3.0, name="real")
POSITIVE = Domain(0.25, 4.0, name="positive")
NONZERO = Domain(0.25, 4.0, symmetric=True, name="nonzero")
SMALL = Domain(-2.0, 2.0, name="small")


@dataclass(frozen=True)
class Kinks:
    """Where an op has no derivative, so strategies can aim at those points on purpose
    (and verdicts can call a mismatch there a convention rather than a bug).

    - ``points``: input values where the op has a kink or a one-sided pole (relu: 0.0).
    - ``kwarg_points``: kwargs whose values are kink points (clamp's ``min``/``max``).
    - ``ties``: equal elements of one input (max, amax) or equal elements across inputs
      (maximum) are kinks.
    - ``inputs``: the inputs the points apply to (None: all).
    """

    points: tuple[float, ...] = ()
    kwarg_points: tuple[str, ...] = ()
    ties: bool = False
    inputs: tuple[int, ...] | None = None

    def values(self, kwargs: dict) -> tuple[float, ...]:
        """The kink points for a case with these kwargs."""
        extra = tuple(float(kwargs[k]) for k in self.kwarg_points if isinstance(kwargs.get(k), (int, float)))
        return self.points + extra


# A user's function declares no kinks: any two equal input elements may be a tie (coupled, as
# max's are), so the checker keeps the tie tests it skips for a catalogue op declared smooth.
UNDECLARED_KINKS = Kinks(ties=True)


@dataclass(frozen=True)
class Convention:
    """A value torch documents for an op's derivative away from any kink, e.g. no gradient
    for embedding's ``padding_idx`` row. ``where(shapes, kwargs)`` gives one boolean mask per
    input (``stage`` "vjp" or "hvp") or for the output ("jvp") of the elements it covers;
    there the engine and torch must give ``value``, and the row's verdict is ``convention``
    with ``reason`` (verdicts.declared), however the numerical reference disagrees."""

    stage: str
    where: Callable[[tuple[Shape, ...], dict], list[Any]]
    reason: str
    value: float = 0.0

    def __post_init__(self) -> None:
        if self.stage not in ("vjp", "jvp", "hvp"):
            raise ValueError(f"a Convention's stage is 'vjp', 'jvp' or 'hvp', got {self.stage!r}")


@dataclass(frozen=True)
class OpSpec:
    """One catalogue entry: everything the suite needs to check an op.

    - ``fn(ns, *tensors, **kwargs)``: the op written against the torch API.
    - ``shapes``: a strategy of input shapes (a tuple with one shape per input).
    - ``kwargs``: given the drawn shapes, a strategy of non-tensor arguments.
    - ``domains``: one value domain per input.
    - ``torch_fn`` / ``engine_fn``: the callables used on torch and on engines that
      mirror torch's API; both default to ``fn`` bound to the respective module.
    - ``kinks``: where the op is not differentiable (None: smooth on its domains).
    - ``analytic``: the op is holomorphic in its inputs, so its forward can be evaluated in
      complex128 for complex-step differentiation.
    - ``forward_ad`` / ``second_order``: which derivative checks apply (JVP; VJP of VJP).
    - ``conventions``: values torch documents away from kinks (``Convention``), with reasons.
    - ``real_inputs``: inputs that stay real in a complex dtype (polar's abs and angle);
      ``complex_output``: the output is complex in real dtypes too (fft, polar). How complex
      cases are checked: complex_view.py; ``complex_inputs`` is set there, never by hand.
    """

    name: str
    family: str
    fn: Callable[..., Any]
    shapes: st.SearchStrategy[tuple[Shape, ...]]
    domains: tuple[Domain, ...]
    kwargs: Callable[[tuple[Shape, ...]], st.SearchStrategy[dict]] = field(default=lambda shapes: st.just({}))
    dtypes: tuple[str, ...] = ("float32", "float64")
    doc: str = ""
    torch_fn: Callable[..., Any] | None = None
    engine_fn: Callable[..., Any] | None = None
    kinks: Kinks | None = None
    analytic: bool = False
    forward_ad: bool = True
    second_order: bool = True
    conventions: tuple[Convention, ...] = ()
    real_inputs: tuple[int, ...] = ()
    complex_output: bool = False
    complex_inputs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"op name {self.name!r} must be letters, digits, '_' or '.'")

    @property
    def arity(self) -> int:
        return len(self.domains)

    def call_torch(self, torch_module: Any, *tensors: Any, **kwargs: Any) -> Any:
        if self.torch_fn is not None:
            return self.torch_fn(*tensors, **kwargs)
        return self.fn(torch_module, *tensors, **kwargs)

    def call_engine(self, module: Any, *tensors: Any, **kwargs: Any) -> Any:
        if self.engine_fn is not None:
            return self.engine_fn(*tensors, **kwargs)
        return self.fn(module, *tensors, **kwargs)


def op(name: str, family: str, fn: Callable[..., Any], shapes: Any, domains: tuple, **rest: Any) -> OpSpec:
    """Shorthand for catalogue modules: the fields every entry has, by position."""
    return OpSpec(name=name, family=family, fn=fn, shapes=shapes, domains=tuple(domains), **rest)
