"""Witnesses for the vector-Jacobian product checks (``vjp-torch``, ``vjp-fd``).

v^T J of the engine and of torch, for the case's cotangent v, against the float64 gradient
of phi = sum(v * f): every element for small inputs, Rademacher probes (narrowed down to
the failing elements by bisection) for larger ones. The numbers come from an ``Estimator``
(central differences of torch's float64 forward, or the complex step through its complex128
forward for analytic ops); elements where a witness disagrees with them are
estimated again along a ladder of smaller steps before anything is judged.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.checking import tolerances
from gradcheck_suite.checking.compare import compare, scores
from gradcheck_suite.checking.estimators import Estimator, locate, output_of, trusted_complex
from gradcheck_suite.checking.judge import Flat, Judgement, Witnesses, known_scores
from gradcheck_suite.checking.settings import Settings
from gradcheck_suite.checking.verdicts import NOISE_SCORE
from gradcheck_suite.engines.protocol import Engine
from gradcheck_suite.oracles import fd_arrays, finite_diff
from gradcheck_suite.strategies import Case

MAX_REFINED = 256  # elements per check estimated again with smaller steps


@dataclass
class FirstOrder:
    """The VJP check's witnesses, its estimator (for one-sided and nearby derivatives), what the
    reference was (method and scope), and ``where(j, judgement)``: the location of element j."""

    w: Witnesses
    est: Estimator
    method: str
    where: Callable[[int, Judgement], dict]


def vjp_witnesses(
    engine: Engine, oracle: Engine, case: Case, wide: list[np.ndarray], v: np.ndarray, grads: tuple[list, list],
    noise: list, n_terms: int, noise64: float, settings: Settings, shrinks: tuple[float, ...] = (),
    grads64: list | None = None,
) -> FirstOrder:  # fmt: skip
    """``grads``: the engine's and torch's VJPs; ``noise``: torch's measured noise per gradient;
    ``noise64``: the measured rounding of one float64 forward; ``shrinks``: per input, the
    steps' narrowing for the measured condition; ``grads64``: torch's gradients computed in
    float64, for a case in a lower precision (the noise probe's)."""
    e_grads, t_grads = grads
    flat = Flat([x.shape for x in wide], case_labels(case))
    noise = noise or [None] * len(e_grads)
    dtype = case.numeric_dtype
    budgets = [tolerances.budget(t, dtype, n_terms=n_terms, noise=n) for t, n in zip(t_grads, noise)]
    # E vs T: each may be off by the noise (tolerances.twice): one more noise on top of the base budget
    tol = flat.join([settings.widen(b + tolerances.NOISE_FACTOR * tolerances.finite_noise(n), t)
                     for b, t, n in zip(budgets, t_grads, noise)])  # fmt: skip
    base = flat.join([settings.widen(b, t) for b, t in zip(budgets, t_grads)])
    rng = np.random.default_rng(zlib.crc32(v.tobytes()))  # probes follow the (replayable) case
    est = _estimator(engine, oracle, case, wide, v, n_terms, flat, rng, noise64, shrinks, settings.full_limit)
    w = Witnesses(flat, flat.join(e_grads), flat.join(t_grads), tol, np.full(flat.size, np.nan), base)
    w.wide = lower_precision(flat, dtype, grads64)
    err, w.filled = np.full(flat.size, np.nan), np.zeros(flat.size, bool)
    if finite_diff.use_full(wide, settings.full_limit):
        est.fill(range(flat.size), w.ref, err, w.filled)
        scope = "full gradient"
    else:
        _probe(est, w, err, base, rng, settings.probes)
        p = finite_diff.miss_probability(settings.probes)
        scope = f"{settings.probes} Rademacher probes (miss probability <= {p:.3g} per wrong element)"
    w.ref_tol, w.ref_err = base + tolerances.FD_FACTOR * np.abs(err), err
    _refine(est, w, err, base)

    def where(j: int, verdict: Judgement) -> dict:
        return _output_of(engine, case, wide, v, flat, j, verdict, est.shrink())

    return FirstOrder(w, est, f"{est.method}; {scope}", where)


def case_labels(case: Case) -> list[str]:
    """How a case's inputs are named in records: its own labels (a module's parameter names),
    else ``input 0``, ``input 1``, ..."""
    labels = getattr(case, "labels", None)
    return list(labels) if labels else [f"input {i}" for i in range(len(case.inputs))]


def lower_precision(flat: Flat, dtype: str, high: list | None) -> np.ndarray | None:
    """torch's float64 results (the noise probe's), for a case in a lower precision."""
    if dtype == "float64" or not high or [np.shape(h) for h in high] != list(flat.shapes):
        return None
    return flat.join(high)


def _refine(est: Estimator, w: Witnesses, err: np.ndarray, base: np.ndarray) -> None:
    """Elements where the reference disagrees with engine or torch, or straddles a jump,
    estimated again with smaller steps: a smooth function varying on a scale below the
    default step must not pass for a kink (nor hide a bug behind a large error estimate).
    Then those it rejects by no more than the noise allowance, estimated to a higher order:
    where rounding made the estimate unsure, a small real error must not pass as noise."""

    def rejected() -> tuple[np.ndarray, np.ndarray]:
        return known_scores(w.engine, w), known_scores(w.torch, w)

    s_e, s_t = rejected()
    idx = np.flatnonzero(w.known & ((s_e > 1) | (s_t > 1) | w.erratic()))[:MAX_REFINED]
    if idx.size:
        est.refine(idx, w.ref, err)
        w.ref_tol, w.ref_err = base + tolerances.FD_FACTOR * np.abs(err), err
        s_e, s_t = rejected()
    band = ((s_e > 1) & (s_e <= NOISE_SCORE)) | ((s_t > 1) & (s_t <= NOISE_SCORE))
    idx = np.flatnonzero(w.known & band & ~w.erratic())[:MAX_REFINED]
    if idx.size:
        est.precise(idx, w.ref, err)
        w.ref_tol, w.ref_err = base + tolerances.FD_FACTOR * np.abs(err), err


def _estimator(
    engine, oracle, case, wide, v, n_terms, flat, rng, noise64: float, shrinks: tuple, full_limit: int
) -> Estimator:
    # phi's rounding scale: its summands, and the measured noise of the forward (in float64
    # units: intermediates larger than the output round at their own scale)
    flat_v = np.ascontiguousarray(v, dtype=np.float64).ravel()
    abs_v = np.abs(flat_v)
    hidden = float(np.sum(abs_v)) * noise64 / finite_diff.EPS64

    # the differences run on torch's float64 forward (the forward the engine's was compared with):
    # it evaluates many points in one call (evaluate_many), and the noise probe measured its rounding
    source = oracle

    def phi_of(out) -> tuple[float, float]:
        with np.errstate(all="ignore"):
            f = np.asarray(out, dtype=np.float64).ravel()
            return float(f @ flat_v), float(np.abs(f) @ abs_v) + hidden

    def phi(xs):
        return phi_of(source.evaluate(case.op, xs, case.kwargs))

    def phi_each(points):  # as phi at each point (not phi_many's one matrix product: the same bits as phi)
        return [phi_of(out) for out in source.evaluate_many(case.op, points, case.kwargs)]

    def phi_many(points):
        outs = source.evaluate_many(case.op, points, case.kwargs)
        with np.errstate(all="ignore"):
            f = np.stack([np.asarray(o, dtype=np.float64).ravel() for o in outs])
            return f @ flat_v, np.abs(f) @ abs_v + hidden

    est = Estimator(phi, wide, flat, n_terms=n_terms, shrinks=tuple(shrinks), phi_many=phi_many, phi_each=phi_each)
    # the complex step pays off over a full gradient (one evaluation per element instead of four);
    # a handful of probes would spend on trusting it what it saves, and a probe left unsure by
    # central differences is estimated again to a higher order (_probe)
    if case.op.analytic and 0 < flat.size <= full_limit:
        est = trusted_complex(est, lambda xs: oracle.evaluate(case.op, xs, case.kwargs), v, rng)
        est.complex_many = lambda points: oracle.evaluate_many(case.op, points, case.kwargs)
    return est


def _probe(est: Estimator, w: Witnesses, err: np.ndarray, base: np.ndarray, rng, probes: int) -> None:
    """Probe checks for large inputs; failing probes are narrowed to elements, and the
    numerical reference is also computed wherever engine and torch disagree."""

    def score_of(values):
        return lambda idx: scores(values[idx], w.ref[idx], base[idx] + tolerances.FD_FACTOR * np.abs(err[idx]))

    spread = tolerances.probe([base], [np.ones(1)], 0.0)  # with +-1 entries, the same for every probe
    same = w.engine is w.torch or np.array_equal(w.engine, w.torch)  # one witness: two identical runs
    for p in range(probes):
        d = finite_diff.rademacher(rng, (w.flat.size,))
        got = est.along(d)

        def dots(got):
            measured = w.flat.join(got.directions)
            with np.errstate(invalid="ignore", over="ignore"):
                e = float(w.engine @ measured)
                return e, e if same else float(w.torch @ measured)

        tol = spread + tolerances.FD_FACTOR * abs(got.error)
        values = dots(got)
        if any(tol < abs(v - got.value) <= NOISE_SCORE * tol for v in values):  # unsure: a higher order
            better = est.along_precise(d)
            if np.isfinite(better.value) and better.error < got.error and finite_diff.agree(got, better):
                got, values = better, dots(better)
                tol = spread + tolerances.FD_FACTOR * abs(got.error)
        for dot, witness, failures in zip(values, (w.engine, w.torch), (w.probes_e, w.probes_t)):
            if abs(dot - got.value) <= tol:  # the common case, without building a Comparison
                continue
            cmp = compare(np.array(dot), np.array(got.value), tol)
            if not cmp.ok and not locate(est, witness, base, d, w.ref, err, w.filled, score_of(witness)):
                failures.append((f"probe {p}", cmp))
    est.fill(np.flatnonzero(scores(w.engine, w.torch, w.tol_et) > 1)[:1024], w.ref, err, w.filled)


def _output_of(engine, case, wide, v, flat, j, verdict: Judgement, shrink: float = 1.0) -> dict:
    """Input and element of flat index j, and the output element whose Jacobian entry is wrong."""
    i, k = flat.locate(j)
    where = {"input": i, "element": list(k)}
    if verdict.ref_verdict[0] not in ("engine-bug", "non-finite") or v.size <= 1:
        return where | ({"output": [0] * v.ndim} if v.size == 1 else {})
    d = [np.zeros(x.shape) for x in wide]
    d[i][k] = 1.0
    column = fd_arrays.directional_arrays(
        lambda xs: [engine.evaluate(case.op, xs, case.kwargs)], wide, d, shrink=shrink
    ).values[0]  # fmt: skip

    def engine_at(u):
        return float(engine.vjp_at(case.op, case.inputs, case.kwargs, u)[i][k])

    found = output_of(engine_at, column, v)
    if found:
        o, e_entry, f_entry = found
        where |= {"output": list(o), "engine_jacobian": e_entry, "reference_jacobian": f_entry}
    return where
