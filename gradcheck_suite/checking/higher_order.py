"""Witnesses for the forward-mode (JVP) and second-order (HVP) checks.

JVP: J u for a Rademacher tangent u. The engine's ``forward_ad`` against torch's, and
both against the float64 directional derivative of f along u (central differences of
torch's float64 forward; complex step through its complex128 forward for analytic ops, when
it agrees with the central difference). Compared element by element over the output.

HVP: d/dx <v^T J(x), w> for the case's cotangent v and a Rademacher w: the VJP of the VJP
(``create_graph=True``), i.e. the Hessian of phi = sum(v * f) times w. The engine's against
torch's, and both against central differences of torch's float64 VJP along w (torch's
first-order VJP was compared with the engine's and with finite differences in the same
case, and using it keeps this witness independent of the engine under test). Compared
element by element over the inputs.

The tangent and direction actually used are the displacements the differences measured
(fd_arrays.directional_arrays), so the two sides are evaluated along the same vector.
An engine without forward mode (NotImplementedError) gives ``unsupported``.

Torch's rounding noise (noise.py: two more torch runs) only ever widens the budgets, so it is
measured only where the budgets without it leave some element in doubt (``_settled``): a check
that passes every comparison without the noise term passes with it too, and its rows carry the
tighter budget it was judged with.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.checking import raised, tolerances, verdicts
from gradcheck_suite.checking.compare import scores
from gradcheck_suite.checking.first_order import case_labels, lower_precision
from gradcheck_suite.checking.judge import Flat, Witnesses
from gradcheck_suite.checking.noise import NoiseProbe
from gradcheck_suite.checking.settings import Settings
from gradcheck_suite.engines.protocol import Engine
from gradcheck_suite.oracles import complex_step, fd_arrays, nearby
from gradcheck_suite.oracles import finite_diff as fd
from gradcheck_suite.strategies import Case


@dataclass
class Failed:
    """A higher-order check that could not compare values (one side raised, or unsupported)."""

    verdict: verdicts.Verdict
    detail: str


Built = tuple[Witnesses, Callable, str, Callable[[int], dict], Callable] | Failed


def _nearby(fn, wide, ds, flat: Flat, n_terms: int, noise: float, v: np.ndarray, salt: bytes, shrink: float):
    """judge.py's ``nearby`` for a directional derivative over arrays: the spread of each
    element's derivative along ``ds`` at points near x where the tied input elements (equal
    values, and zeros) are moved apart (nearby.nearby_points; every element when none
    ties), with an eighth of the default step."""
    inputs = Flat([x.shape for x in wide], [""] * len(wide))

    def spread_near(idx: np.ndarray, kinks: np.ndarray) -> fd.OneSided:
        rng = _rng(v, b"nearby" + salt)
        x = inputs.join(wide)
        _, first, counts = np.unique(x, return_index=True, return_counts=True)
        seeds = np.union1d(first[counts > 1], np.flatnonzero(x == 0))
        group = nearby.tied_group(x, seeds) if seeds.size else np.arange(x.size)
        values, errors = [], []
        for y in nearby.nearby_points(rng, x, group, shrink):
            ys = inputs.split(y)
            got = fd_arrays.directional_arrays(fn, ys, ds, n_terms, noise, h=fd.step(fd.largest(ys), shrink) / 8)
            values.append(flat.join(got.values)[idx])
            errors.append(flat.join(got.errors)[idx])
        return nearby.spread(values, errors)

    return spread_near


def _rng(v: np.ndarray, salt: bytes) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(salt + v.tobytes()))


def _raised(stage: str, e_err: BaseException | None, t_err: BaseException | None, settings=None) -> Failed:
    if isinstance(e_err, NotImplementedError) and isinstance(t_err, NotImplementedError):
        verdict = verdicts.unsupported(stage, "neither the engine nor torch implements it for this op")
    else:
        verdict = verdicts.errors(e_err, t_err, stage, not (settings and settings.raise_fails))
    return Failed(verdict, raised.describe(e_err, t_err, verdict[0]))


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


def _refine(w: Witnesses, fn, wide, ds, first: fd.ArrayDerivative, n_terms: int, noise: float, shrink: float) -> None:
    """Elements where the reference disagrees with engine or torch, or straddles a jump,
    estimated again along a ladder of smaller steps (fd_arrays.refined_arrays), in place: a
    function that varies below the default step (atan2 near the origin, tiny inputs) must
    not pass for a kink, nor fail an engine that is right."""
    with np.errstate(invalid="ignore"):
        failing = (scores(w.engine, w.ref, w.ref_tol) > 1) | (scores(w.torch, w.ref, w.ref_tol) > 1) | w.erratic()
    idx = np.flatnonzero(failing)
    if idx.size == 0:
        return
    values, errors = fd_arrays.refined_arrays(fn, wide, ds, first, idx, n_terms, noise, shrink)
    found = np.isfinite(values)
    base = w.ref_tol - tolerances.FD_FACTOR * np.abs(w.ref_err)
    w.ref[idx[found]], w.ref_err[idx[found]] = values[found], errors[found]
    w.ref_tol = base + tolerances.FD_FACTOR * np.abs(w.ref_err)


def _witnesses(
    flat, engine, torch, noise, ref: fd.ArrayDerivative, dtype: str, n_terms: int, settings: Settings, scale=0.0,
    wide=None, nondet: float | None = None,
):  # fmt: skip
    tol, base = [], []
    for t, n in zip(torch, noise or [None] * len(torch)):
        tol.append(
            settings.widen(tolerances.budget(t, dtype, n_terms=n_terms, noise=tolerances.twice(n), scale=scale), t)
        )
        base.append(settings.widen(tolerances.budget(t, dtype, n_terms=n_terms, noise=n, scale=scale), t))
    base_flat, err = flat.join(base), flat.join(ref.errors)
    return Witnesses(
        flat, flat.join(engine), flat.join(torch), flat.join(tol), flat.join(ref.values),
        base_flat + tolerances.FD_FACTOR * np.abs(err), ref_err=err, wide=lower_precision(flat, dtype, wide),
        nondet=nondet,
    )  # fmt: skip


def _settled(w: Witnesses) -> bool:
    """Whether no element is in doubt without the noise term: engine vs torch, and both vs the
    reference, within budget everywhere and no reference straddling a jump. The noise term
    only widens those budgets (tolerances.budget), so then ``_refine`` has nothing to refine
    and ``judge`` passes both rows whatever the noise: measuring it would change no verdict."""
    with np.errstate(invalid="ignore"):
        return not (
            np.any(scores(w.engine, w.torch, w.tol_et) > 1)
            or np.any(scores(w.engine, w.ref, w.ref_tol) > 1)
            or np.any(scores(w.torch, w.ref, w.ref_tol) > 1)
            or w.erratic().any()
        )


def _budgeted(
    flat, engine, torch, ref: fd.ArrayDerivative, case: Case, n_terms: int, settings: Settings | None, scale: float,
    nondet: float | None, measure: Callable[[NoiseProbe], list], refine: Callable[[Witnesses], None],
) -> Witnesses:  # fmt: skip
    """The witnesses with budgets without torch's noise where that settles every element,
    else with the noise ``measure`` takes on a NoiseProbe, and the reference refined."""
    settings, dtype = settings or Settings(), case.numeric_dtype
    w = _witnesses(flat, engine, torch, None, ref, dtype, n_terms, settings, scale, nondet=nondet)
    if _settled(w):
        return w
    probe = NoiseProbe.of(case.inputs, dtype)
    noise = measure(probe)
    w = _witnesses(flat, engine, torch, noise, ref, dtype, n_terms, settings, scale, probe.high, nondet)
    refine(w)
    return w


def jvp_witnesses(
    engine: Engine, oracle: Engine, case: Case, wide, v, n_terms: int, noise64=0.0, scale: float = 0.0,
    shrink: float = 1.0, settings: Settings | None = None, nondet: float | None = None,
) -> Built:  # fmt: skip
    """``noise64``: the measured rounding noise of the float64 forward (finite_diff rounding);
    ``scale``: the size of the Jacobian's entries (tolerances.jacobian_scale); ``shrink``:
    the steps' narrowing for the measured condition (finite_diff.shrink_for); ``nondet``: the
    engine-vs-torch tolerance when they are one witness."""
    op, kwargs = case.op, case.kwargs
    rng = _rng(v, b"jvp")
    u = [fd.rademacher(rng, x.shape) for x in wide]

    def f64(xs):  # torch's float64 forward, as for the VJP's differences (first_order._estimator)
        return [oracle.evaluate(op, xs, kwargs)]

    ref = fd_arrays.directional_arrays(f64, wide, u, n_terms, noise64, shrink=shrink)
    tangents = ref.directions
    method = "central differences of f along u, Richardson"
    if op.analytic:
        ref, method = _complex_jvp(oracle, case, wide, tangents, n_terms, ref, method)
    e_j, e_err = _attempt(engine.jvp, op, case.inputs, tangents, kwargs)
    t_j, t_err = _attempt(oracle.jvp, op, case.inputs, tangents, kwargs)
    if e_err or t_err:
        return _raised("jvp", e_err, t_err, settings)
    flat = Flat([t_j.shape], ["output"])

    def measure(probe: NoiseProbe) -> list:
        return probe.measure(lambda xs, nudge: [oracle.jvp(op, xs, [nudge(t) for t in tangents], kwargs)], [t_j])

    def refine(w: Witnesses) -> None:
        if method.startswith("central"):  # the complex step has no step to refine
            _refine(w, f64, wide, tangents, ref, n_terms, noise64, shrink)

    w = _budgeted(flat, [e_j], [t_j], ref, case, n_terms, settings, scale, nondet, measure, refine)
    sides = _lazy_sides(lambda: fd_arrays.one_sided_arrays(f64, wide, tangents, n_terms, noise64, shrink), flat)

    def where(j: int) -> dict:
        return {"output": list(flat.locate(j)[1]), "tangent": "Rademacher over all inputs"}

    return w, sides, method, where, _nearby(f64, wide, tangents, flat, n_terms, noise64, v, b"jvp", shrink)


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


def hvp_witnesses(
    engine: Engine, oracle: Engine, case: Case, wide, v, n_terms: int, noise64=0.0,
    differentiated: Engine | None = None, shrink: float = 1.0, settings: Settings | None = None,
    vjp64: list | None = None, nondet: float | None = None,
) -> Built:  # fmt: skip
    """``noise64``: the measured rounding noise of torch's float64 VJP (finite_diff rounding).
    ``differentiated``: whose first-order VJP the differences run on (default torch's; the
    engine's when torch's disagreed with the numerical reference in this case). ``vjp64``:
    that VJP at the inputs, if already computed; ``nondet`` as for ``jvp_witnesses``."""
    op, kwargs = case.op, case.kwargs
    rng = _rng(v, b"hvp")
    w_dir = [fd.rademacher(rng, x.shape) for x in wide]
    source = oracle if differentiated is None else differentiated

    def torch_vjp(xs):
        return source.vjp_at(op, xs, kwargs, v)

    ref = fd_arrays.directional_arrays(torch_vjp, wide, w_dir, n_terms, noise64, shrink=shrink)
    direction = ref.directions
    e_h, e_err = _attempt(engine.hvp, op, case.inputs, kwargs, v, direction)
    t_h, t_err = _attempt(oracle.hvp, op, case.inputs, kwargs, v, direction)
    if e_err or t_err:
        return _raised("hvp", e_err, t_err, settings)
    flat = Flat([x.shape for x in wide], case_labels(case))
    at_x = vjp64 if vjp64 and [np.shape(g) for g in vjp64] == [x.shape for x in wide] else torch_vjp(wide)
    scale = tolerances.hessian_scale(wide, at_x)

    def measure(probe: NoiseProbe) -> list:
        return probe.measure(lambda xs, nudge: oracle.hvp(op, xs, kwargs, nudge(v), [nudge(d) for d in direction]), t_h)

    def refine(w: Witnesses) -> None:
        _refine(w, torch_vjp, wide, direction, ref, n_terms, noise64, shrink)

    w = _budgeted(flat, e_h, t_h, ref, case, n_terms, settings, scale, nondet, measure, refine)
    sides = _lazy_sides(lambda: fd_arrays.one_sided_arrays(torch_vjp, wide, direction, n_terms, noise64, shrink), flat)

    def where(j: int) -> dict:
        i, k = flat.locate(j)
        return {"input": i, "element": list(k), "direction": "Rademacher w over all inputs"}

    near = _nearby(torch_vjp, wide, direction, flat, n_terms, noise64, v, b"hvp", shrink)
    whose = "torch's" if source is oracle else "the engine's (torch's disagreed with the numerical reference)"
    return w, sides, f"central differences of {whose} float64 VJP along w, Richardson", where, near
