"""The numerical reference for v^T J at one point, element by element or along directions.

``Estimator`` hides which method gives the numbers: central differences of torch's
float64 forward (default; the forward the engine's is compared with), or complex step
through torch's complex128 forward for ops the catalogue marks ``analytic`` (confirmed
against one central difference first, see oracles/complex_step.py). One-sided differences
for kinks always use the real forward. A batch of elements (``fill``) asks for all its
evaluations in one call (``Engine.evaluate_many``: torch vectorises them with vmap).

``locate`` narrows a failing probe down to elements: bisect the probe's support, keep the
halves whose own directional check fails, and finish with per-element differences on
leaves of at most LEAF elements (or on a whole region whose halves both pass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradcheck_suite.checking import tolerances
from gradcheck_suite.checking.judge import Flat
from gradcheck_suite.oracles import complex_step, element_batches, nearby
from gradcheck_suite.oracles import finite_diff as fd

LEAF = 8
REGION_LIMIT = 512  # per-element differences on an unsplittable failing region up to this size


@dataclass
class Estimator:
    phi: fd.Phi  # float64 phi(xs) -> (value, summand magnitude)
    xs: list[np.ndarray]
    flat: Flat
    complex_fn: complex_step.ComplexFn | None = None  # complex forward, when the complex step is trusted
    v: np.ndarray | None = None
    n_terms: int = 1
    note: str = ""
    steps: dict[int, float] = field(default_factory=dict)  # refined steps, by flat index
    shrinks: tuple[float, ...] = ()  # per input: steps narrowed for its measured condition (finite_diff.shrink_for)
    phi_many: fd.PhiMany | None = None  # phi at many points in one call (fill's batches)
    complex_many: Callable[[list[list[np.ndarray]]], list[np.ndarray]] | None = None  # complex_fn, batched
    phi_each: element_batches.PhiEach | None = None  # phi at many points, each as phi gives it (default: phi's loop)

    def __post_init__(self) -> None:
        if self.phi_each is None:
            phi = self.phi
            self.phi_each = lambda points: [phi(p) for p in points]

    def shrink(self, i: int | None = None) -> float:
        """Input i's step narrowing; for a joint step (i None) the narrowest of them."""
        if not self.shrinks:
            return 1.0
        return self.shrinks[i] if i is not None else min(self.shrinks)

    @property
    def method(self) -> str:
        name = "complex step (torch complex128 forward)" if self.complex_fn else "central differences, Richardson"
        return name + (f"; {self.note}" if self.note else "")

    def element(self, j: int) -> fd.Derivative:
        i, k = self.flat.locate(j)
        if self.complex_fn is not None:
            return complex_step.element(self.complex_fn, self.v, self.xs, i, k, self.n_terms)
        return fd.element(self.phi, self.xs, i, k, shrink=self.shrink(i))

    def along(self, d_flat: np.ndarray) -> fd.Derivative:
        ds = self.flat.split(d_flat)
        if self.complex_fn is not None:
            return complex_step.directional(self.complex_fn, self.v, self.xs, ds, self.n_terms)
        return fd.directional(self.phi, self.xs, ds, self.shrink())

    def along_precise(self, d_flat: np.ndarray) -> fd.Derivative:
        """``along`` to a higher order (finite_diff.precise_directional; the complex step is
        precise already): for a probe that the default estimate leaves in the noise band."""
        if self.complex_fn is not None:
            return self.along(d_flat)
        return fd.precise_directional(self.phi, self.xs, self.flat.split(d_flat), self.shrink())

    def one_sided(self, idx: np.ndarray) -> fd.OneSided:
        """Left and right derivatives at flat indices ``idx``, with the steps refine settled on
        (else the default), all their evaluations in one batched call."""
        targets = [self.flat.locate(int(j)) for j in idx]
        steps = [self.steps.get(int(j)) for j in idx]
        shrinks = [self.shrink(i) for i in range(len(self.xs))]
        return element_batches.one_sided_elements(self.phi_each, self.xs, targets, steps, shrinks)

    def one_sided_along(self, d_flat: np.ndarray) -> fd.OneSided:
        """Left and right derivatives of phi along a flat direction (always the real forward)."""
        return fd.one_sided_directional(self.phi, self.xs, self.flat.split(d_flat), self.shrink())

    def nearby(self, idx: np.ndarray, kinks: np.ndarray, rng: np.random.Generator) -> fd.OneSided:
        """For each flat index in ``idx``: the spread of its derivative at points near x where
        it, the ``kinks`` elements and the elements tied with them are moved apart
        (nearby.nearby_points), estimated with an eighth of its default step (always the
        real forward). Indices with the same tied group share the points, and each point's
        estimates for all of them are one ``phi_many`` call (a whole tied tensor of clamp's
        x == min == max is hundreds of elements)."""
        x = self.flat.join(self.xs)
        shrinks = self.flat.join([np.full(s, self.shrink(i)) for i, s in enumerate(self.flat.shapes)])
        low, low_err, high, high_err = (np.empty(len(idx)) for _ in range(4))
        groups: dict[bytes, list[int]] = {}
        for n, j in enumerate(idx):
            groups.setdefault(nearby.tied_group(x, np.append(kinks, j)).astype(np.intp).tobytes(), []).append(n)
        eighth = [self.shrink(i) / 8 for i in range(len(self.xs))]  # step() is linear in its shrink
        for key, members in groups.items():
            targets = [self.flat.locate(int(idx[n])) for n in members]
            values, errors = [], []
            for y in nearby.nearby_points(rng, x, np.frombuffer(key, dtype=np.intp), shrinks):
                value, error = self._central(self.flat.split(y), targets, eighth)
                values.append(value)
                errors.append(error)
            one = nearby.spread(values, errors)
            for out, field_name in zip((low, low_err, high, high_err), _SIDES):
                out[members] = getattr(one, field_name)
        return fd.OneSided(low, low_err, high, high_err)

    def refine(self, idx, ref: np.ndarray, err: np.ndarray) -> None:
        """Central differences at flat indices ``idx`` again along a ladder of smaller steps
        (finite_diff.refined_element), keeping the better estimate and its step for the
        one-sided differences. The complex step has no step to refine."""
        if self.complex_fn is not None:
            return
        idx = [int(j) for j in idx]
        targets = [self.flat.locate(j) for j in idx]
        firsts = [fd.Derivative(float(ref[j]), float(err[j]) if np.isfinite(err[j]) else np.inf) for j in idx]
        shrinks = [self.shrink(i) for i in range(len(self.xs))]
        found = element_batches.refined_elements(self.phi_each, self.xs, targets, firsts, shrinks)  # in lockstep
        for j, refined in zip(idx, found):
            if refined is not None:
                best, h = refined
                ref[j], err[j], self.steps[j] = best.value, best.error, h

    def precise(self, idx, ref: np.ndarray, err: np.ndarray) -> None:
        """Higher-order estimates (finite_diff.precise_element) at flat indices ``idx``, kept
        where their error estimate is smaller and they confirm the estimate they replace (a
        jump between the two step sizes would make both look confident and disagree). The
        complex step is precise already."""
        if self.complex_fn is not None:
            return
        for j in idx:
            i, k = self.flat.locate(int(j))
            d = fd.precise_element(self.phi, self.xs, i, k, self.shrink(i))
            first = fd.Derivative(float(ref[j]), float(err[j]))
            if np.isfinite(d.value) and d.error < err[j] and fd.agree(first, d):
                ref[j], err[j] = d.value, d.error

    def fill(self, idx, ref: np.ndarray, err: np.ndarray, filled: np.ndarray) -> None:
        """Per-element estimates at flat indices ``idx`` not yet computed; all their evaluations
        in one batch where the estimator has a batched form (the same numbers, fewer calls)."""
        todo = [int(j) for j in idx if not filled[j]]
        if not todo:
            return
        if self.complex_fn is None:
            shrinks = [self.shrink(i) for i in range(len(self.xs))]
            values, errors = self._central(self.xs, [self.flat.locate(j) for j in todo], shrinks)
        elif len(todo) > 1 and self.complex_many is not None:
            values, errors = self._complex_elements(todo)
        else:
            got = [self.element(j) for j in todo]
            values, errors = np.array([d.value for d in got]), np.array([d.error for d in got])
        ref[todo], err[todo], filled[todo] = values, errors, True

    def _central(self, xs, targets: list[tuple[int, tuple]], shrinks: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """fd.element at each (input, index) target of ``xs``: in one ``phi_many`` call where
        there is one and more than one target, else one by one (the same numbers)."""
        if self.phi_many is not None and len(targets) > 1:
            return fd.elements(self.phi_many, xs, targets, shrinks)
        got = [fd.element(self.phi, xs, i, k, shrink=shrinks[i]) for i, k in targets]
        return np.array([d.value for d in got]), np.array([d.error for d in got])

    def _complex_elements(self, todo: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """complex_step.element at flat indices ``todo``, their complex forwards in one batch."""
        points = []
        for j in todo:
            i, k = self.flat.locate(j)
            ds = [np.zeros(x.shape) for x in self.xs]
            ds[i][k] = 1.0
            points.append(complex_step.lifted(self.xs, ds))
        outs = self.complex_many(points)
        got = [complex_step.from_output(out, self.v, self.n_terms) for out in outs]
        return np.array([g[0] for g in got]), np.array([g[1] for g in got])


_SIDES = ("left", "left_error", "right", "right_error")


def trusted_complex(est: Estimator, complex_fn: complex_step.ComplexFn, v: np.ndarray, rng) -> Estimator:
    """``est`` switched to the complex step if it agrees with central differences along one
    direction. A Gaussian one: with +-1 entries, a non-holomorphic part of a function of x - y
    (a Huber loss's |x - y|) cancels out of the direction whenever x and y draw the same sign."""
    d = rng.standard_normal(est.flat.size)
    try:
        central = fd.directional(est.phi, est.xs, est.flat.split(d), est.shrink())
        cs = complex_step.directional(complex_fn, v, est.xs, central.directions, est.n_terms)
    except Exception as exc:  # noqa: BLE001 - torch may not run this op in complex128
        est.note = f"complex step unavailable ({type(exc).__name__}); central differences used"
        return est
    if not complex_step.consistent(cs, central):
        est.note = "complex step disagreed with central differences (not analytic here?); central used"
        return est
    est.complex_fn, est.v = complex_fn, v
    return est


def locate(
    est: Estimator,
    values: np.ndarray,
    budget: np.ndarray,
    d: np.ndarray,
    ref: np.ndarray,
    err: np.ndarray,
    filled: np.ndarray,
    score: Callable[[np.ndarray], np.ndarray],
) -> bool:
    """Narrow a failing probe ``d`` for ``values`` (flat) to elements, filling ``ref``/``err``
    there; True when some element was found failing (the probe's failure is located)."""
    stack = [np.flatnonzero(d)]
    found = False
    while stack:
        region = stack.pop()
        if region.size <= LEAF:
            est.fill(region, ref, err, filled)
            found |= bool(np.any(score(region) > 1))
            continue
        halves = [h for h in np.array_split(region, 2) if _fails(est, values, budget, d, h)]
        if halves:
            stack.extend(halves)
        elif region.size <= REGION_LIMIT:  # the error is spread over both halves
            est.fill(region, ref, err, filled)
            found |= bool(np.any(score(region) > 1))
    return found


def _fails(est: Estimator, values: np.ndarray, budget: np.ndarray, d: np.ndarray, region: np.ndarray) -> bool:
    masked = np.zeros_like(d)
    masked[region] = d[region]
    got = est.along(masked)
    measured = est.flat.join(got.directions)
    tol = tolerances.probe([budget], [masked], got.error)
    with np.errstate(invalid="ignore", over="ignore"):
        return abs(float(np.sum(values * measured)) - got.value) > tol


def output_of(
    vjp_at: Callable[[np.ndarray], np.ndarray], column: np.ndarray, v: np.ndarray
) -> tuple[tuple[int, ...], float, float] | None:
    """The output element whose Jacobian entry is most wrong for one input element.

    ``vjp_at(u)`` is the engine's (u^T J) at that input element, ``column`` the reference
    J[:, element] (output-shaped). Bisect the cotangent's support, following the half whose
    engine value differs most from the reference; returns (output index, engine J, reference J).
    """
    support = np.flatnonzero(v.ravel())
    if support.size == 0:
        return None
    col, vf = column.ravel(), v.ravel()
    while support.size > 1:
        gaps = []
        for half in np.array_split(support, 2):
            u = np.zeros_like(vf)
            u[half] = vf[half]
            gaps.append((abs(vjp_at(u.reshape(v.shape)) - float(np.sum(u * col))), half))
        support = max(gaps, key=lambda g: g[0] if np.isfinite(g[0]) else np.inf)[1]
    o = int(support[0])
    u = np.zeros_like(vf)
    u[o] = vf[o]
    engine_entry = vjp_at(u.reshape(v.shape)) / vf[o]
    return tuple(int(i) for i in np.unravel_index(o, v.shape)), float(engine_entry), float(col[o])
