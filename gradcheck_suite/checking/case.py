"""One case through the three witnesses, and the records that come out.

    engine forward ─┐                 ┌─ "forward"   record (engine vs torch values)
    torch forward  ─┤                 ├─ "vjp-torch" / "vjp-fd"  (v^T J; every case)
    numerical      ─┘  (float64)      ├─ "jvp-torch" / "jvp-fd"  (J u; ops with forward_ad)
    reference                         └─ "hvp-torch" / "hvp-fd"  (VJP of VJP; ops with second_order)

Each comparison uses the error budget of tolerances.py; judge.py reads the three pairwise
outcomes element by element (with one-sided differences at kinks) and verdicts.py names
the result. Small inputs get the full gradient; larger ones Rademacher probes, narrowed
down to the failing element (and output element) when one fails.
"""

from __future__ import annotations

import json
import math
import time
import traceback
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.cases_io import replay_id
from gradcheck_suite.checking import higher_order, tolerances, verdicts
from gradcheck_suite.checking.compare import Comparison, compare, scores
from gradcheck_suite.checking.estimators import Estimator, locate, output_of, trusted_complex
from gradcheck_suite.checking.judge import Flat, Judgement, Witnesses, judge
from gradcheck_suite.checking.noise import NoiseProbe
from gradcheck_suite.engines.protocol import Engine
from gradcheck_suite.oracles import finite_diff
from gradcheck_suite.records import CASE_CHECKS, Record
from gradcheck_suite.strategies import Case

MAX_REFINED = 256  # elements per check estimated again with smaller steps


@dataclass
class CaseIds:
    """Where a case comes from, for its records."""

    run_id: str
    seed: int
    example: int


def _attempt(fn: Callable, *args):
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 - any error of an engine is a finding
        return None, exc


def _raised(engine_error: BaseException | None, torch_error: BaseException | None) -> str:
    """Which side raised what, e.g. ``engine: RuntimeError: ...; torch: ...``."""
    sides = (("engine", engine_error), ("torch", torch_error))
    return "; ".join(f"{side}: {type(err).__name__}: {err}" for side, err in sides if err is not None)


class CaseChecker:
    """Checks cases of one op against torch and a float64 numerical reference.

    ``probes``: Rademacher probes for inputs above finite_diff.FULL_LIMIT elements.
    ``higher_order_every``: JVP and HVP checks on every n-th example of a stream (1: all).
    ``checks``: the checks to report (default: all); JVP/HVP work is skipped when none of
    theirs is selected. A failing row that cut its stage short (forward raised, the VJP
    raised or came out misshapen) is reported even when its check was not selected.
    """

    def __init__(
        self, engine: Engine, oracle: Engine, *, probes: int = finite_diff.PROBES,
        higher_order_every: int = 1, checks: Iterable[str] | None = None,
    ) -> None:  # fmt: skip
        if probes < 1 or higher_order_every < 1:
            raise ValueError(f"probes and higher_order_every must be >= 1, got {probes} and {higher_order_every}")
        self.engine = engine
        self.oracle = oracle
        self.probes = probes
        self.higher_order_every = higher_order_every
        self.checks = frozenset(checks) if checks is not None else None
        unknown = sorted((self.checks or frozenset()) - set(CASE_CHECKS))
        if unknown:
            raise ValueError(f"unknown check {', '.join(unknown)}; expected some of {', '.join(CASE_CHECKS)}")
        self.higher_order = self.checks is None or any(c[:3] in ("jvp", "hvp") for c in self.checks)
        self._text_of: Case | None = None
        self._text = ("", "")

    def check(self, case: Case, ids: CaseIds) -> list[Record]:
        start = time.perf_counter()
        records = self._check(case, ids)
        if self.checks is not None:
            records = self._selected(records)
        ms = (time.perf_counter() - start) * 1000 / max(len(records), 1)
        for r in records:
            r.duration_ms = ms
        return records

    def _selected(self, records: list[Record]) -> list[Record]:
        """The selected checks' rows, and the failing row that ended a stage early (a forward
        or VJP that raised, misshapen gradients): its selected checks never got a row."""
        stages = {r.check.split("-")[0] for r in records if r.check in self.checks}
        return [
            r for r in records
            if r.check in self.checks or (r.failed and r.check.split("-")[0] not in stages)
        ]  # fmt: skip

    def unsupported(self, op, dtype: str, ids: CaseIds) -> Record:
        """The one record of an (op, dtype) stream the engine's adapter does not support."""
        return Record(
            run_id=ids.run_id, engine=self.engine.name, op=op.name, check="forward", dtype=dtype, shapes="[]",
            kwargs="{}", seed=ids.seed, example=ids.example, verdict="unsupported",
            rule=f"engine {self.engine.name!r} does not support {op.name}: "
            + (self.engine.unsupported_reason(op) or "its adapter's supports() is False"),
        )  # fmt: skip

    def harness_error(self, case: Case, ids: CaseIds, exc: BaseException) -> Record:
        """The record for a case the checker itself crashed on (a bug of ours)."""
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=6))
        verdict = ("harness-error", "the checker raised while checking this case")
        return self._record(case, ids, "forward", verdict, detail=tb[-1500:])

    def _record(
        self, case: Case, ids: CaseIds, check: str, verdict: tuple[str, str], cmp: Comparison | None = None,
        detail: str = "", location: dict | None = None, reference: str = "",
    ) -> Record:  # fmt: skip
        shapes, kwargs = self._case_text(case)
        rec = Record(
            run_id=ids.run_id, engine=self.engine.name, op=case.op.name, check=check, dtype=case.dtype,
            shapes=shapes, kwargs=kwargs,
            seed=ids.seed, example=ids.example, verdict=verdict[0], rule=verdict[1], detail=detail,
            location=as_json(location) if location else "", reference=reference,
        )  # fmt: skip
        if cmp is not None:
            rec.max_abs_err, rec.max_rel_err = cmp.max_abs_err, cmp.max_rel_err
            rec.tolerance, rec.score = cmp.tolerance, cmp.score
        if rec.failed:
            rec.inputs = as_json({f"x{i}": x.tolist() for i, x in enumerate(case.inputs)} | {"dtype": case.dtype})
            rec.replay_id = replay_id(case)
        return rec

    def _case_text(self, case: Case) -> tuple[str, str]:
        """The case's shapes and kwargs as JSON, made once for its seven records."""
        if self._text_of is not case:
            self._text_of = case
            self._text = json.dumps([list(s) for s in case.shapes]), as_json(case.kwargs)
        return self._text

    def _check(self, case: Case, ids: CaseIds) -> list[Record]:
        op, kwargs = case.op, case.kwargs
        e_fwd, e_err = _attempt(self.engine.forward, op, case.inputs, kwargs)
        t_fwd, t_err = _attempt(self.oracle.forward, op, case.inputs, kwargs)
        if e_err or t_err:
            verdict = verdicts.errors(e_err, t_err, "forward")
            return [self._record(case, ids, "forward", verdict, detail=_raised(e_err, t_err))]

        (e_in, e_out), (t_in, t_out) = e_fwd, t_fwd
        e_val, t_val = self.engine.to_numpy(e_out), self.oracle.to_numpy(t_out)
        if e_val.shape != t_val.shape:
            rule = f"forward: the engine's output has shape {list(e_val.shape)}, torch's {list(t_val.shape)}"
            return [self._record(case, ids, "forward", ("forward-mismatch", rule))]
        wide = [x.astype(np.float64) for x in case.inputs]
        n_terms = max(1, sum(x.size for x in case.inputs))
        v = case.cotangent(t_val.shape)
        t_grads, t_err = _attempt(self.oracle.vjp, t_in, t_out, v)
        with_vjp = v if t_grads is not None else None  # noise of the forward alone when torch's VJP raised
        fwd_noise, *g_noise = NoiseProbe.of(case.inputs, case.dtype).measure(
            lambda xs, nudge: self._torch_run(op, xs, kwargs, None if with_vjp is None else nudge(with_vjp)),
            [t_val, *(t_grads or [])],
        )  # fmt: skip
        fwd = compare(
            e_val, t_val, tolerances.budget(t_val, case.dtype, n_terms=n_terms, noise=tolerances.twice(fwd_noise))
        )
        where = _where(fwd, "output", e=fwd.actual, torch=fwd.expected)
        records = [self._record(case, ids, "forward", verdicts.forward(fwd), fwd, where)]

        e_grads, e_err = _attempt(self.engine.vjp, e_in, e_out, v)
        if e_err or t_err:
            verdict = verdicts.errors(e_err, t_err, "backward")
            records.append(self._record(case, ids, "vjp-torch", verdict, detail=_raised(e_err, t_err)))
            return records
        misshapen = [(i, np.shape(g), x.shape) for i, (g, x) in enumerate(zip(e_grads, case.inputs))
                     if np.shape(g) != x.shape]  # fmt: skip
        if misshapen or len(e_grads) != len(case.inputs):
            wrong = "; ".join(f"input {i}: {list(got)} for an input of shape {list(x)}" for i, got, x in misshapen)
            rule = f"vjp: the engine's gradients have the wrong shape ({wrong or f'{len(e_grads)} gradients'})"
            records.append(self._record(case, ids, "vjp-torch", ("engine-bug", rule)))
            return records
        to64 = tolerances.EPS["float64"] / tolerances.eps(case.dtype)  # the differences evaluate in float64
        noise64 = (fwd_noise or 0.0) * to64, max((n or 0.0 for n in g_noise), default=0.0) * to64
        records += self._vjp_records(case, ids, wide, v, e_grads, t_grads, g_noise, n_terms, noise64[0])
        if self.higher_order and ids.example % self.higher_order_every == 0:
            records += self._higher_order_records(case, ids, wide, v, n_terms, noise64, t_grads)
        return records

    def _torch_run(self, op, arrays, kwargs, v: np.ndarray | None) -> list[np.ndarray]:
        """torch's forward value and (unless ``v`` is None) VJP at ``arrays``, for measuring noise."""
        inputs, out = self.oracle.forward(op, arrays, kwargs)
        return [self.oracle.to_numpy(out), *(self.oracle.vjp(inputs, out, v) if v is not None else [])]

    # -- vector-Jacobian products ---------------------------------------------------------

    def _vjp_records(self, case, ids, wide, v, e_grads, t_grads, g_noise, n_terms, noise64: float) -> list[Record]:
        flat = Flat([x.shape for x in wide], [f"input {i}" for i in range(len(wide))])
        noise = g_noise or [None] * len(e_grads)
        dtype = case.dtype
        tol = flat.join([tolerances.budget(t, dtype, n_terms=n_terms, noise=tolerances.twice(n))
                         for t, n in zip(t_grads, noise)])  # fmt: skip
        base = flat.join([tolerances.budget(t, dtype, n_terms=n_terms, noise=n) for t, n in zip(t_grads, noise)])
        rng = np.random.default_rng(zlib.crc32(v.tobytes()))  # probes follow the (replayable) case
        est = self._estimator(case, wide, v, n_terms, flat, rng, noise64)
        w = Witnesses(flat, flat.join(e_grads), flat.join(t_grads), tol, np.full(flat.size, np.nan), base)
        err, w.filled = np.full(flat.size, np.nan), np.zeros(flat.size, bool)
        if finite_diff.use_full(wide):
            est.fill(range(flat.size), w.ref, err, w.filled)
            scope = "full gradient"
        else:
            self._probe(est, w, err, base, rng)
            p = finite_diff.miss_probability(self.probes)
            scope = f"{self.probes} Rademacher probes (miss probability <= {p:.3g} per wrong element)"
        w.ref_tol, w.ref_err = base + tolerances.FD_FACTOR * np.abs(err), err
        self._refine(est, w, err, base)
        verdict = judge(w, est.one_sided, "vjp", est.one_sided_along)
        return self._derivative_records(
            case, ids, "vjp", w, verdict, f"{est.method}; {scope}",
            lambda j: self._output_of(case, wide, v, flat, j, verdict),
        )  # fmt: skip

    @staticmethod
    def _refine(est: Estimator, w: Witnesses, err: np.ndarray, base: np.ndarray) -> None:
        """Elements where the reference disagrees with engine or torch, or straddles a jump,
        estimated again with smaller steps: a smooth function varying on a scale below the
        default step must not pass for a kink (nor hide a bug behind a large error estimate)."""
        with np.errstate(invalid="ignore"):
            failing = (scores(w.engine, w.ref, w.ref_tol) > 1) | (scores(w.torch, w.ref, w.ref_tol) > 1)
        idx = np.flatnonzero(w.known & (failing | w.erratic()))[:MAX_REFINED]
        if idx.size:
            est.refine(idx, w.ref, err)
            w.ref_tol, w.ref_err = base + tolerances.FD_FACTOR * np.abs(err), err

    def _estimator(self, case, wide, v, n_terms, flat, rng, noise64: float) -> Estimator:
        # phi's rounding scale: its summands, and the measured noise of the forward (in float64
        # units: intermediates larger than the output round at their own scale)
        hidden = float(np.sum(np.abs(v))) * noise64 / finite_diff.EPS64

        def phi(xs):
            with np.errstate(all="ignore"):
                terms = v * self.engine.evaluate(case.op, xs, case.kwargs)
                return float(np.sum(terms)), float(np.sum(np.abs(terms))) + hidden

        est = Estimator(phi, wide, flat, n_terms=n_terms)
        if case.op.analytic and flat.size:
            est = trusted_complex(est, lambda xs: self.oracle.evaluate(case.op, xs, case.kwargs), v, rng)
        return est

    def _probe(self, est: Estimator, w: Witnesses, err: np.ndarray, base: np.ndarray, rng) -> None:
        """Probe checks for large inputs; failing probes are narrowed to elements, and the
        numerical reference is also computed wherever engine and torch disagree."""

        def score_of(values):
            return lambda idx: scores(values[idx], w.ref[idx], base[idx] + tolerances.FD_FACTOR * np.abs(err[idx]))

        for p in range(self.probes):
            d = finite_diff.rademacher(rng, (w.flat.size,))
            got = est.along(d)
            measured = w.flat.join(got.directions)
            tol = tolerances.probe([base], [d], got.error)
            for values, failures in ((w.engine, w.probes_e), (w.torch, w.probes_t)):
                with np.errstate(invalid="ignore", over="ignore"):
                    dot = float(np.sum(values * measured))
                cmp = compare(np.array(dot), np.array(got.value), tol)
                if not cmp.ok and not locate(est, values, base, d, w.ref, err, w.filled, score_of(values)):
                    failures.append((f"probe {p}", cmp))
        est.fill(np.flatnonzero(scores(w.engine, w.torch, w.tol) > 1)[:1024], w.ref, err, w.filled)

    def _output_of(self, case, wide, v, flat, j, verdict: Judgement) -> dict:
        """Input and element of flat index j, and the output element whose Jacobian entry is wrong."""
        i, k = flat.locate(j)
        where = {"input": i, "element": list(k)}
        if verdict.ref_verdict[0] not in ("engine-bug", "non-finite") or v.size <= 1:
            return where | ({"output": [0] * v.ndim} if v.size == 1 else {})
        d = [np.zeros(x.shape) for x in wide]
        d[i][k] = 1.0
        column = finite_diff.directional_arrays(
            lambda xs: [self.engine.evaluate(case.op, xs, case.kwargs)], wide, d
        ).values[0]  # fmt: skip

        def engine_at(u):
            return float(self.engine.vjp_at(case.op, case.inputs, case.kwargs, u)[i][k])

        found = output_of(engine_at, column, v)
        if found:
            o, e_entry, f_entry = found
            where |= {"output": list(o), "engine_jacobian": e_entry, "reference_jacobian": f_entry}
        return where

    def _higher_order_records(self, case, ids, wide, v, n_terms, noise64: tuple[float, float], grads) -> list[Record]:
        out = []
        jacobian = tolerances.jacobian_scale(grads, v)  # the JVP's terms can cancel to far below it
        for stage, enabled, build, extra in (
            ("jvp", case.op.forward_ad, higher_order.jvp_witnesses, {"scale": jacobian}),
            ("hvp", case.op.second_order, higher_order.hvp_witnesses, {}),
        ):
            if not enabled:
                continue
            result = build(self.engine, self.oracle, case, wide, v, n_terms, noise64[stage == "hvp"], **extra)
            if isinstance(result, higher_order.Failed):
                out.append(self._record(case, ids, f"{stage}-torch", result.verdict, detail=result.detail))
                continue
            w, one_sided, method, locate_fn = result
            verdict = judge(w, one_sided, stage)
            out += self._derivative_records(case, ids, stage, w, verdict, method, locate_fn)
        return out

    def _derivative_records(self, case, ids, stage, w, verdict: Judgement, method: str, locate_fn) -> list[Record]:
        def at(j: int) -> dict | None:
            return locate_fn(j) if j >= 0 else None

        e_t, e_f = verdict.e_t, verdict.e_f
        note = f"; {verdict.kink_note}" if verdict.kink_note else ""
        t_where = _flat_where(w, verdict.e_t_at, e_t) + note
        f_where = (_flat_where(w, verdict.e_f_at, e_f) if verdict.e_f_at >= 0 else _where(e_f, "probe")) + note
        failed_t = verdict.torch_verdict[0] != "pass"
        failed_f = verdict.ref_verdict[0] != "pass"
        return [
            self._record(case, ids, f"{stage}-torch", verdict.torch_verdict, e_t, t_where,
                         at(verdict.e_t_at) if failed_t else None, method),
            self._record(case, ids, f"{stage}-fd", verdict.ref_verdict, e_f, f_where,
                         at(verdict.e_f_at) if failed_f else None, method),
        ]  # fmt: skip


def _flat_where(w: Witnesses, j: int, cmp: Comparison) -> str:
    if j < 0 or cmp.note:
        return cmp.note
    values = {"e": w.engine[j], "torch": w.torch[j], "fd": w.ref[j]}
    shown = " ".join(f"{k}={v:.9g}" for k, v in values.items() if not math.isnan(v))
    return f"worst at {w.flat.name(j)}: {shown}"


def _where(cmp: Comparison, label: str, **values: float | None) -> str:
    if cmp.note:
        return cmp.note
    if not label:
        return ""
    at = f"{label} at {list(cmp.worst)}" if cmp.worst else label
    shown = " ".join(f"{k}={v:.9g}" for k, v in values.items() if v is not None and not math.isnan(v))
    return f"worst at {at}: {shown}"


def as_json(value) -> str:
    """JSON for record columns (arrays as lists, anything else by str), keys sorted."""
    return json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o), sort_keys=True)
