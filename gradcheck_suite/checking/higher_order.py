"""Witnesses for the forward-mode (JVP) and second-order (HVP) checks.

JVP: J u for a Rademacher tangent u. The engine's ``forward_ad`` against torch's, and
both against the float64 directional derivative of f along u (central differences of the
engine's forward; complex step through torch's complex128 forward for analytic ops, when
it agrees with the central difference). Compared element by element over the output.

HVP: d/dx <v^T J(x), w> for the case's cotangent v and a Rademacher w: the VJP of the VJP
(``create_graph=True``), i.e. the Hessian of phi = sum(v * f) times w. The engine's against
torch's, and both against central differences of torch's float64 VJP along w (torch's
first-order VJP was compared with the engine's and with finite differences in the same
case, and using it keeps this witness independent of the engine under test). Compared
element by element over the inputs.

The tangent and direction actually used are the displacements the differences measured
(finite_diff.directional_arrays), so the two sides are evaluated along the same vector.
An engine without forward mode (NotImplementedError) gives ``unsupported``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.checking import tolerances, verdicts
from gradcheck_suite.checking.judge import Flat, Witnesses
from gradcheck_suite.checking.noise import NoiseProbe
from gradcheck_suite.engines.protocol import Engine
from gradcheck_suite.oracles import complex_step
from gradcheck_suite.oracles import finite_diff as fd
from gradcheck_suite.strategies import Case


@dataclass
class Failed:
    """A higher-order check that could not compare values (one side raised, or unsupported)."""

    verdict: verdicts.Verdict
    detail: str


Built = tuple[Witnesses, Callable, str, Callable[[int], dict]] | Failed


def _rng(v: np.ndarray, salt: bytes) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(salt + v.tobytes()))


def _raised(stage: str, e_err: BaseException | None, t_err: BaseException | None) -> Failed:
    detail = "; ".join(f"{side}: {type(x).__name__}: {x}" for side, x in (("engine", e_err), ("torch", t_err)) if x)
    if isinstance(e_err, NotImplementedError) and isinstance(t_err, NotImplementedError):
        return Failed(verdicts.unsupported(stage, "neither the engine nor torch implements it for this op"), detail)
    return Failed(verdicts.errors(e_err, t_err, stage), detail)


def _attempt(fn: Callable, *args):
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 - any error of an engine is a finding
        return None, exc


def _sides_at(sides: list[fd.OneSided], flat: Flat) -> Callable[[np.ndarray], fd.OneSided]:
    fields = ("left", "left_error", "right", "right_error")
    joined = fd.OneSided(*(flat.join([getattr(s, f) for s in sides]) for f in fields))

    def at(idx: np.ndarray) -> fd.OneSided:
        return fd.OneSided(joined.left[idx], joined.left_error[idx], joined.right[idx], joined.right_error[idx])

    return at


def _lazy_sides(compute: Callable[[], list[fd.OneSided]], flat: Flat) -> Callable[[np.ndarray], fd.OneSided]:
    """One-sided differences are only computed when some element failed."""
    cache: list = []

    def at(idx: np.ndarray) -> fd.OneSided:
        if not cache:
            cache.append(_sides_at(compute(), flat))
        return cache[0](idx)

    return at


def _witnesses(flat, engine, torch, noise, ref: fd.ArrayDerivative, dtype: str, n_terms: int, scale=0.0):
    tol, base = [], []
    for t, n in zip(torch, noise):
        tol.append(tolerances.budget(t, dtype, n_terms=n_terms, noise=tolerances.twice(n), scale=scale))
        base.append(tolerances.budget(t, dtype, n_terms=n_terms, noise=n, scale=scale))
    base_flat, err = flat.join(base), flat.join(ref.errors)
    return Witnesses(
        flat, flat.join(engine), flat.join(torch), flat.join(tol), flat.join(ref.values),
        base_flat + tolerances.FD_FACTOR * np.abs(err), ref_err=err,
    )  # fmt: skip


def jvp_witnesses(
    engine: Engine, oracle: Engine, case: Case, wide, v, n_terms: int, noise64=0.0, scale: float = 0.0
) -> Built:
    """``noise64``: the measured rounding noise of the float64 forward (finite_diff rounding);
    ``scale``: the size of the Jacobian's entries (tolerances.jacobian_scale)."""
    op, kwargs = case.op, case.kwargs
    rng = _rng(v, b"jvp")
    u = [fd.rademacher(rng, x.shape) for x in wide]

    def f64(xs):
        return [engine.evaluate(op, xs, kwargs)]

    ref = fd.directional_arrays(f64, wide, u, n_terms, noise64)
    tangents = ref.directions
    method = "central differences of f along u, Richardson"
    if op.analytic:
        ref, method = _complex_jvp(oracle, case, wide, tangents, n_terms, ref, method)
    e_j, e_err = _attempt(engine.jvp, op, case.inputs, tangents, kwargs)
    t_j, t_err = _attempt(oracle.jvp, op, case.inputs, tangents, kwargs)
    if e_err or t_err:
        return _raised("jvp", e_err, t_err)
    noise = NoiseProbe.of(case.inputs, case.dtype).measure(
        lambda xs, nudge: [oracle.jvp(op, xs, [nudge(t) for t in tangents], kwargs)], [t_j]
    )
    flat = Flat([t_j.shape], ["output"])
    w = _witnesses(flat, [e_j], [t_j], noise, ref, case.dtype, n_terms, scale)
    sides = _lazy_sides(lambda: fd.one_sided_arrays(f64, wide, tangents, n_terms, noise64), flat)

    def where(j: int) -> dict:
        return {"output": list(flat.locate(j)[1]), "tangent": "Rademacher over all inputs"}

    return w, sides, method, where


def _complex_jvp(oracle, case, wide, tangents, n_terms, central: fd.ArrayDerivative, method: str):
    """The complex-step JVP where it agrees with the central one; else the central one, noted."""
    try:
        cs = complex_step.jvp(lambda xs: oracle.evaluate(case.op, xs, case.kwargs), wide, tangents, n_terms)
    except Exception as exc:  # noqa: BLE001 - torch may not run this op in complex128
        return central, f"{method}; complex step unavailable ({type(exc).__name__})"
    with np.errstate(invalid="ignore"):
        gap = np.abs(cs.values[0] - central.values[0])
        ok = np.all(gap <= 8 * (cs.errors[0] + central.errors[0]))
    if not ok:
        return central, f"{method}; complex step disagreed with central differences"
    return cs, "complex step of f along u (torch complex128 forward)"


def hvp_witnesses(engine: Engine, oracle: Engine, case: Case, wide, v, n_terms: int, noise64=0.0) -> Built:
    """``noise64``: the measured rounding noise of torch's float64 VJP (finite_diff rounding)."""
    op, kwargs = case.op, case.kwargs
    rng = _rng(v, b"hvp")
    w_dir = [fd.rademacher(rng, x.shape) for x in wide]

    def torch_vjp(xs):
        return oracle.vjp_at(op, xs, kwargs, v)

    ref = fd.directional_arrays(torch_vjp, wide, w_dir, n_terms, noise64)
    direction = ref.directions
    e_h, e_err = _attempt(engine.hvp, op, case.inputs, kwargs, v, direction)
    t_h, t_err = _attempt(oracle.hvp, op, case.inputs, kwargs, v, direction)
    if e_err or t_err:
        return _raised("hvp", e_err, t_err)
    noise = NoiseProbe.of(case.inputs, case.dtype).measure(
        lambda xs, nudge: oracle.hvp(op, xs, kwargs, nudge(v), [nudge(d) for d in direction]), t_h
    )
    flat = Flat([x.shape for x in wide], [f"input {i}" for i in range(len(wide))])
    w = _witnesses(flat, e_h, t_h, noise, ref, case.dtype, n_terms, tolerances.hessian_scale(wide, torch_vjp(wide)))
    sides = _lazy_sides(lambda: fd.one_sided_arrays(torch_vjp, wide, direction, n_terms, noise64), flat)

    def where(j: int) -> dict:
        i, k = flat.locate(j)
        return {"input": i, "element": list(k), "direction": "Rademacher w over all inputs"}

    return w, sides, "central differences of torch's float64 VJP along w, Richardson", where
