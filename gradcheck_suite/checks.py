"""One case through the three witnesses, and the records that come out.

    engine forward ─┐                 ┌─ "forward"   record (engine vs torch values)
    torch forward  ─┼─ cotangent v ───┼─ "vjp-torch" record (engine vs torch v^T J)
    finite diffs   ─┘  (float64)      └─ "vjp-fd"    record (engine vs finite differences)

Each comparison uses the error budget of tolerances.py; each record's verdict
reads all three pairwise outcomes (verdicts.py).
"""

from __future__ import annotations

import json
import math
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite import tolerances, verdicts
from gradcheck_suite.compare import Comparison, compare, worst_of
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.oracles import finite_diff
from gradcheck_suite.records import Record
from gradcheck_suite.strategies import Case


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
    """Checks cases of one op against torch and finite differences."""

    def __init__(self, engine: MirrorEngine, oracle: MirrorEngine) -> None:
        self.engine = engine
        self.oracle = oracle

    def check(self, case: Case, ids: CaseIds) -> list[Record]:
        start = time.perf_counter()
        records = self._check(case, ids)
        ms = (time.perf_counter() - start) * 1000 / max(len(records), 1)
        for r in records:
            r.duration_ms = ms
        return records

    def harness_error(self, case: Case, ids: CaseIds, exc: BaseException) -> Record:
        """The record for a case the checker itself crashed on (a bug of ours)."""
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=6))
        verdict = ("harness-error", "the checker raised while checking this case")
        return self._record(case, ids, "forward", verdict, detail=tb[-1500:])

    def _record(
        self,
        case: Case,
        ids: CaseIds,
        check: str,
        verdict: tuple[str, str],
        cmp: Comparison | None = None,
        detail: str = "",
    ) -> Record:
        rec = Record(
            run_id=ids.run_id, engine=self.engine.name, op=case.op.name, check=check, dtype=case.dtype,
            shapes=json.dumps([list(s) for s in case.shapes]), kwargs=_json(case.kwargs),
            seed=ids.seed, example=ids.example, verdict=verdict[0], rule=verdict[1], detail=detail,
        )  # fmt: skip
        if cmp is not None:
            rec.max_abs_err, rec.max_rel_err = cmp.max_abs_err, cmp.max_rel_err
            rec.tolerance, rec.score = cmp.tolerance, cmp.score
        if rec.failed:
            rec.inputs = _json({f"x{i}": x.tolist() for i, x in enumerate(case.inputs)} | {"dtype": case.dtype})
        return rec

    def _check(self, case: Case, ids: CaseIds) -> list[Record]:
        op, kwargs = case.op, case.kwargs
        e_fwd, e_err = _attempt(self.engine.forward, op, case.inputs, kwargs)
        t_fwd, t_err = _attempt(self.oracle.forward, op, case.inputs, kwargs)
        if e_err or t_err:
            verdict = verdicts.errors(e_err, t_err, "forward")
            return [self._record(case, ids, "forward", verdict, detail=_raised(e_err, t_err))]

        (e_in, e_out), (t_in, t_out) = e_fwd, t_fwd
        e_val, t_val = self.engine.to_numpy(e_out), self.oracle.to_numpy(t_out)
        wide = [x.astype(np.float64) for x in case.inputs]
        n_terms = max(1, sum(x.size for x in case.inputs))
        noisy = case.dtype != "float64"
        t64_in, t64_out = self.oracle.forward(op, wide, kwargs) if noisy else (t_in, t_out)
        fwd_noise = t_val - self.oracle.to_numpy(t64_out) if noisy else None
        fwd = compare(e_val, t_val, tolerances.budget(t_val, case.dtype, n_terms=n_terms, noise=_twice(fwd_noise)))
        records = [
            self._record(
                case,
                ids,
                "forward",
                verdicts.forward(fwd),
                fwd,
                _where(fwd, "output", e=fwd.actual, torch=fwd.expected),
            )
        ]

        v = case.cotangent(t_val.shape)
        e_grads, e_err = _attempt(self.engine.vjp, e_in, e_out, v)
        t_grads, t_err = _attempt(self.oracle.vjp, t_in, t_out, v)
        if e_err or t_err:
            verdict = verdicts.errors(e_err, t_err, "backward")
            records.append(self._record(case, ids, "vjp-torch", verdict, detail=_raised(e_err, t_err)))
            return records
        g_noise = None
        if noisy:
            t64_grads = self.oracle.vjp(t64_in, t64_out, v)
            g_noise = [t - t64 for t, t64 in zip(t_grads, t64_grads)]
        records += self._vjp_records(case, ids, wide, v, e_grads, t_grads, g_noise, n_terms)
        return records

    def _vjp_records(self, case, ids, wide, v, e_grads, t_grads, g_noise, n_terms) -> list[Record]:
        dtype = case.dtype

        def phi(xs):
            terms = v * self.engine.evaluate(case.op, xs, case.kwargs)
            return float(np.sum(terms)), float(np.sum(np.abs(terms)))

        noise = g_noise or [None] * len(e_grads)
        e_t = _per_input(e_grads, t_grads, [tolerances.budget(t, dtype, n_terms=n_terms, noise=_twice(n))
                                            for t, n in zip(t_grads, noise)])  # fmt: skip
        fd_values, fd_desc = None, ""
        if finite_diff.use_full(wide):
            fd_values, fd_errors = finite_diff.gradient(phi, wide)
            budgets = [
                tolerances.budget(f, dtype, n_terms=n_terms, noise=n, fd_error=err)
                for f, err, n in zip(fd_values, fd_errors, noise)
            ]
            e_f = _per_input(e_grads, fd_values, budgets)
            t_f = _per_input(t_grads, fd_values, budgets)
            fd_desc = "full gradient"
        else:
            budgets = [tolerances.budget(t, dtype, n_terms=n_terms, noise=n) for t, n in zip(t_grads, noise)]
            e_f, t_f = self._directional(phi, wide, e_grads, t_grads, budgets, v)
            fd_desc = f"{finite_diff.PROBES} random directions"

        label, cmp = e_t
        fd_at = _value_at(fd_values, label, cmp.worst)
        rec_t = self._record(
            case, ids, "vjp-torch", verdicts.vjp_torch(cmp, e_f[1], t_f[1]), cmp,
            _where(cmp, label, e=cmp.actual, torch=cmp.expected, fd=fd_at),
        )  # fmt: skip
        label_f, cmp_f = e_f
        rec_f = self._record(
            case, ids, "vjp-fd", verdicts.vjp_fd(cmp_f, cmp, t_f[1]), cmp_f,
            _where(cmp_f, label_f, e=cmp_f.actual, fd=cmp_f.expected) + f" [{fd_desc}]",
        )  # fmt: skip
        return [rec_t, rec_f]

    def _directional(self, phi, wide, e_grads, t_grads, budgets, v):
        """Compare <grad, d> with the directional derivative along Gaussian probes d."""
        rng = np.random.default_rng(zlib.crc32(v.tobytes()))  # probes follow the (replayable) case
        e_cmps, t_cmps = [], []
        for p in range(finite_diff.PROBES):
            ds = [rng.standard_normal(x.shape) for x in wide]
            fd = finite_diff.directional(phi, wide, ds)
            # propagate the elementwise budget to the dot product: sum |d| * tol
            tol = sum(float(np.sum(np.abs(d) * b)) for d, b in zip(ds, budgets)) + tolerances.FD_FACTOR * fd.error
            measured = fd.directions  # the displacement the differences really took
            e_dot = sum(float(np.sum(e.astype(np.float64) * d)) for e, d in zip(e_grads, measured))
            t_dot = sum(float(np.sum(t.astype(np.float64) * d)) for t, d in zip(t_grads, measured))
            e_cmps.append((f"direction {p}", compare(np.array(e_dot), np.array(fd.value), tol)))
            t_cmps.append((f"direction {p}", compare(np.array(t_dot), np.array(fd.value), tol)))
        return worst_of(e_cmps), worst_of(t_cmps)


def _per_input(actuals, references, budgets) -> tuple[str, Comparison]:
    """The worst of the per-input comparisons, labelled with the input's position."""
    return worst_of([
        (f"input {i}", compare(a, r, b)) for i, (a, r, b) in enumerate(zip(actuals, references, budgets))
    ])  # fmt: skip


def _twice(noise):
    """Two noisy float32 results may each be off by the measured noise."""
    return None if noise is None else 2 * np.abs(noise)


def _value_at(values, label: str, index: tuple) -> float | None:
    if values is None or not label.startswith("input "):
        return None
    arr = values[int(label.split()[1])]
    return float(arr[index]) if arr.size else None


def _where(cmp: Comparison, label: str, **values: float | None) -> str:
    if cmp.note:
        return cmp.note
    if not label:
        return ""
    at = f"{label} at {list(cmp.worst)}" if cmp.worst else label
    shown = " ".join(f"{k}={v:.9g}" for k, v in values.items() if v is not None and not math.isnan(v))
    return f"worst at {at}: {shown}"


def _json(value) -> str:
    return json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o), sort_keys=True)
