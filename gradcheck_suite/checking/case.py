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

import dataclasses
import json
import math
import time
import traceback
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.cases_io import replay_id
from gradcheck_suite.checking import first_order, higher_order, raised, tolerances, verdicts
from gradcheck_suite.checking.compare import Comparison, compare
from gradcheck_suite.checking.judge import Declared, Flat, Judgement, Witnesses, judge
from gradcheck_suite.checking.noise import NoiseProbe
from gradcheck_suite.checking.settings import Settings
from gradcheck_suite.engines.protocol import Engine, unsupported_reason
from gradcheck_suite.oracles import finite_diff
from gradcheck_suite.records import CASE_CHECKS, Record
from gradcheck_suite.strategies import Case

TRACE_SHRINK = 0.1  # a forward narrowing the steps more than this is traced to the inputs that cause it


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


class CaseChecker:
    """Checks cases of one op against torch and a float64 numerical reference.

    ``probes``: Rademacher probes for inputs above the full-gradient limit (``settings``).
    ``higher_order_every``: JVP and HVP checks on every n-th example of a stream (1: all).
    ``checks``: the checks to report (default: all); VJP, JVP and HVP work is skipped when
    none of its checks is selected. A failing row that cut its stage short (forward raised,
    the VJP raised or came out misshapen) is reported even when its check was not selected.
    ``settings``: a fixed step, a user's own atol/rtol, nondet_tol, fast mode (settings.py).

    Engine and torch are independent witnesses unless the engine computes with torch itself
    (``Engine.independent_of_torch`` False) or the oracle *is* the engine (torch not
    consulted). Then the "-torch" rows compare two runs of the same code within
    ``nondet_tol`` (determinism), and the numerical reference alone judges derivatives.
    """

    def __init__(
        self, engine: Engine, oracle: Engine, *, probes: int | None = None, higher_order_every: int = 1,
        checks: Iterable[str] | None = None, settings: Settings | None = None,
    ) -> None:  # fmt: skip
        if higher_order_every < 1:
            raise ValueError(f"higher_order_every must be >= 1, got {higher_order_every}")
        settings = settings or Settings()
        self.settings = settings if probes is None else dataclasses.replace(settings, probes=probes)
        self.engine = engine
        self.oracle = oracle
        on_torch = not getattr(engine, "independent_of_torch", True)
        self.independent = oracle is not engine and not on_torch
        self.witnesses = (
            verdicts.INDEPENDENT if self.independent else verdicts.SAME_CODE if on_torch else verdicts.NO_TORCH
        )
        self.nondet = None if self.independent else self.settings.nondet_tol
        self.higher_order_every = higher_order_every
        self.checks = frozenset(checks) if checks is not None else None
        unknown = sorted((self.checks or frozenset()) - set(CASE_CHECKS))
        if unknown:
            raise ValueError(f"unknown check {', '.join(unknown)}; expected some of {', '.join(CASE_CHECKS)}")
        self.first_order = self.checks is None or any(c[:3] in ("vjp", "hvp") for c in self.checks)
        self.higher_order = self.checks is None or any(c[:3] in ("jvp", "hvp") for c in self.checks)
        self._text_of: Case | None = None
        self._text = ("", "")

    @property
    def probes(self) -> int:
        return self.settings.probes

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
            rule=f"engine {self.engine.name!r} does not support {op.name}: " + unsupported_reason(self.engine, op),
        )  # fmt: skip

    def harness_error(self, case: Case, ids: CaseIds, exc: BaseException) -> Record:
        """The record for a case the checker itself crashed on (a bug of ours)."""
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=6))
        verdict = ("harness-error", "the checker raised while checking this case")
        return self._record(case, ids, "forward", verdict, detail=tb[-1500:])

    def record(self, case: Case, ids: CaseIds, check: str, verdict: tuple[str, str], detail: str = "") -> Record:
        """A record of this checker's for a check made outside it (a torch code contract)."""
        return self._record(case, ids, check, verdict, detail=detail)

    def _record(
        self, case: Case, ids: CaseIds, check: str, verdict: tuple[str, str], cmp: Comparison | None = None,
        detail: str = "", location: dict | None = None, reference: str = "",
    ) -> Record:  # fmt: skip
        shapes, kwargs = self._case_text(case)
        rec = Record(
            run_id=ids.run_id, engine=self.engine.name, op=case.op.name, check=check, dtype=case.dtype,
            shapes=shapes, kwargs=kwargs,
            seed=ids.seed, example=ids.example, verdict=verdict[0], rule=verdict[1], detail=detail,
            location=as_json(location) if location else "", reference=reference, witnesses=self.witnesses,
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
        if self.oracle is self.engine and getattr(self.engine, "retains_graph", False):
            t_fwd, t_err = e_fwd, e_err  # one code, one forward: backward runs twice on its graph (reentrancy)
        else:
            t_fwd, t_err = _attempt(self.oracle.forward, op, case.inputs, kwargs)
        if e_err or t_err:
            verdict = verdicts.errors(e_err, t_err, "forward", not self.settings.raise_fails)
            return [self._record(case, ids, "forward", verdict, detail=raised.describe(e_err, t_err, verdict[0]))]

        (e_in, e_out), (t_in, t_out) = e_fwd, t_fwd
        e_val, t_val = self.engine.to_numpy(e_out), self.oracle.to_numpy(t_out)
        if e_val.shape != t_val.shape:
            rule = f"forward: the engine's output has shape {list(e_val.shape)}, torch's {list(t_val.shape)}"
            return [self._record(case, ids, "forward", ("forward-mismatch", rule))]
        wide = [x.astype(np.float64) for x in case.inputs]
        n_terms = max(1, sum(x.size for x in case.inputs))
        v = case.cotangent(t_val.shape)
        t_grads, t_err = _attempt(self.oracle.vjp, t_in, t_out, v) if self.first_order else (None, None)
        with_vjp = v if t_grads is not None else None  # noise of the forward alone without torch's VJP
        probe = NoiseProbe.of(case.inputs, case.numeric_dtype)
        fwd_noise, *g_noise = probe.measure(
            lambda xs, nudge: self._torch_run(op, xs, kwargs, None if with_vjp is None else nudge(with_vjp)),
            [t_val, *(t_grads or [])],
        )  # fmt: skip
        # steps narrowed where the measured condition says the function turns on a finer scale
        shrink = _shrinks(probe, lambda xs: self.oracle.evaluate(op, xs, kwargs), len(case.inputs))
        shrink = tuple(s * self.settings.step_scale for s in shrink[0]), shrink[1] * self.settings.step_scale
        fwd_tol = tolerances.budget(t_val, case.numeric_dtype, n_terms=n_terms, noise=tolerances.twice(fwd_noise))
        fwd = compare(e_val, t_val, self.settings.widen(fwd_tol, t_val) if self.nondet is None else self.nondet)
        where = _where(fwd, "output", e=fwd.actual, torch=fwd.expected)
        records = [self._record(case, ids, "forward", verdicts.forward(fwd, self.independent), fwd, where)]
        to64 = tolerances.EPS["float64"] / tolerances.eps(case.numeric_dtype)  # the differences evaluate in float64
        # each evaluation's rounding, for the differences (in float64 units: intermediates larger than
        # the output round at their own scale)
        noise64 = probe.pointwise[0] * to64, max(probe.pointwise[1:], default=0.0) * to64
        if not self.first_order:
            return records + self._higher_order_records(case, ids, wide, v, n_terms, noise64, None, False, shrink)

        e_grads, e_err = _attempt(self.engine.vjp, e_in, e_out, v)
        if e_err or t_err:
            verdict = verdicts.errors(e_err, t_err, "backward", not self.settings.raise_fails)
            detail = raised.describe(e_err, t_err, verdict[0])
            records.append(self._record(case, ids, "vjp-torch", verdict, detail=detail))
            return records
        misshapen = [(i, np.shape(g), x.shape) for i, (g, x) in enumerate(zip(e_grads, case.inputs))
                     if np.shape(g) != x.shape]  # fmt: skip
        if misshapen or len(e_grads) != len(case.inputs):
            wrong = "; ".join(f"input {i}: {list(got)} for an input of shape {list(x)}" for i, got, x in misshapen)
            rule = f"vjp: the engine's gradients have the wrong shape ({wrong or f'{len(e_grads)} gradients'})"
            records.append(self._record(case, ids, "vjp-torch", ("engine-bug", rule)))
            return records
        records += self._vjp_records(
            case, ids, wide, v, (e_grads, t_grads), g_noise, n_terms, noise64[0], shrink[0], (probe.high or [])[1:]
        )
        torch_off = any(r.check == "vjp-torch" and r.verdict == "torch-differs" for r in records)
        vjp64 = t_grads if case.numeric_dtype == "float64" else (probe.high or [])[1:]  # torch's float64 VJP at x
        return records + self._higher_order_records(
            case, ids, wide, v, n_terms, noise64, t_grads, torch_off, shrink, vjp64
        )  # fmt: skip

    def _torch_run(self, op, arrays, kwargs, v: np.ndarray | None) -> list[np.ndarray]:
        """torch's forward value and (unless ``v`` is None) VJP at ``arrays``, for measuring noise."""
        inputs, out = self.oracle.forward(op, arrays, kwargs)
        return [self.oracle.to_numpy(out), *(self.oracle.vjp(inputs, out, v) if v is not None else [])]

    # -- vector-Jacobian products ---------------------------------------------------------

    def _vjp_records(self, case, ids, wide, v, grads, noise, n_terms, noise64, shrinks, grads64) -> list[Record]:
        built = first_order.vjp_witnesses(
            self.engine, self.oracle, case, wide, v, grads, noise, n_terms, noise64, self.settings, shrinks, grads64
        )  # fmt: skip
        w, est = built.w, built.est
        w.nondet = self.nondet
        near = np.random.default_rng(zlib.crc32(b"nearby" + v.tobytes()))
        verdict = judge(
            w, est.one_sided, "vjp", est.one_sided_along if _coupled(case) else None, independent=self.independent,
            nearby=lambda idx, kinks: est.nearby(idx, kinks, near), declared=_declared(case, "vjp", w.flat),
            tied=_tie_test(case, wide), tie_group=lambda j: _tie_group(wide, j),
        )  # fmt: skip
        return self._derivative_records(case, ids, "vjp", w, verdict, built.method, lambda j: built.where(j, verdict))

    def _higher_order_records(
        self, case, ids, wide, v, n_terms, noise64: tuple[float, float], grads, torch_off: bool,
        shrink: tuple[tuple[float, ...], float], vjp64: list | None = None,
    ) -> list[Record]:  # fmt: skip
        """JVP and HVP checks; ``torch_off``: torch's VJP disagreed with the numerical reference,
        so the HVP's differences run on the engine's VJP instead. ``shrink``: the steps'
        narrowing for the forward's (per input) and for the VJP's measured condition;
        ``vjp64``: torch's float64 VJP at the inputs, when the first-order stage computed it."""
        if not self.higher_order or ids.example % self.higher_order_every:
            return []
        out = []
        jacobian = tolerances.jacobian_scale(grads, v)  # the JVP's terms can cancel to far below it
        joint = min(shrink[0], default=1.0)
        for stage, enabled, build, extra in (
            ("jvp", case.op.forward_ad, higher_order.jvp_witnesses, {"scale": jacobian, "shrink": joint}),
            ("hvp", case.op.second_order and grads is not None, higher_order.hvp_witnesses,
             {"differentiated": self.engine if torch_off else None, "shrink": shrink[1],
              "vjp64": None if torch_off else vjp64}),
        ):  # fmt: skip
            if not enabled:
                continue
            noise = noise64[stage == "hvp"]
            result = build(
                self.engine, self.oracle, case, wide, v, n_terms, noise, settings=self.settings, nondet=self.nondet,
                **extra,
            )  # fmt: skip
            if isinstance(result, higher_order.Failed):
                out.append(self._record(case, ids, f"{stage}-torch", result.verdict, detail=result.detail))
                continue
            w, one_sided, method, locate_fn, nearby = result
            declared = _declared(case, stage, w.flat)
            verdict = judge(
                w,
                one_sided,
                stage,
                independent=self.independent,
                nearby=nearby,
                declared=declared,
                tied=_tie_test(case, wide),
            )
            out += self._derivative_records(case, ids, stage, w, verdict, method, locate_fn)
        return out

    def _derivative_records(self, case, ids, stage, w, verdict: Judgement, method: str, locate_fn) -> list[Record]:
        def at(j: int) -> dict | None:
            """Where element j is, and each witness's value there (the reference's with its error)."""
            if j < 0:
                return None
            values = {"computed": w.engine[j], "torch": w.torch[j]}
            if w.known[j]:
                values |= {"expected": w.ref[j], "error_estimate": np.nan if w.ref_err is None else w.ref_err[j]}
            return locate_fn(j) | {k: float(v) for k, v in values.items()}

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


def _shrinks(probe: NoiseProbe, evaluate, arity: int) -> tuple[tuple[float, ...], float]:
    """The steps' narrowing (finite_diff.shrink_for) per input for the forward, and for the
    VJP, from the conditions the noise probe measured. A large joint condition of the forward
    is traced to the inputs that cause it (one more forward each: a solve is linear in b).
    """
    joint = finite_diff.shrink_for(probe.conditions[0] if probe.conditions else 0.0)
    per_input = (joint,) * arity
    if joint < TRACE_SHRINK and arity > 1:  # a mild narrowing costs little accuracy where it is not needed
        per_input = tuple(finite_diff.shrink_for(c) for c in probe.input_conditions(evaluate))
    return per_input, finite_diff.shrink_for(max(probe.conditions[1:], default=0.0))


def _coupled(case: Case) -> bool:
    """Whether the op's kinks couple elements (ties): only then does moving the kink elements
    together test anything. Separate point kinks (hardtanh at both bounds) each allow a value
    between their own one-sided derivatives, and no joint direction bounds the sum of those."""
    return case.op.kinks is not None and case.op.kinks.ties


def _tie_test(case: Case, wide: list[np.ndarray]):
    """Equal input elements make a kink only for an op that has kinks: for a smooth op (a conv
    with a constant input) coupling them would excuse a wrong derivative as not differentiable."""
    return (lambda: _tied(wide)) if case.op.kinks is not None else None


def _tie_group(wide: list[np.ndarray], j: np.ndarray) -> np.ndarray:
    """The flat input elements equal to one of the elements ``j`` (j included): a whole tie,
    which the joint kink rule moves together. A subset of a tie need not move a middle order
    statistic (median of three equal values) though its Clarke gradient is one element's."""
    x = np.concatenate([a.ravel() for a in wide]) if wide else np.zeros(0)
    values = x[j]
    mask = np.isin(x, values[np.isfinite(values)])
    mask[j] = True
    return np.flatnonzero(mask)


def _tied(wide: list[np.ndarray]) -> bool:
    """Whether two input elements are equal (a tie of max or clamp makes the point a kink even
    along directions where the one-sided differences agree)."""
    x = np.concatenate([a.ravel() for a in wide]) if wide else np.zeros(0)
    return bool(x.size > 1 and np.unique(x).size < x.size)


def _declared(case: Case, stage: str, flat: Flat) -> Declared | None:
    """The op's declared convention for this stage (catalogue ``OpSpec.conventions``) as flat elements."""
    for c in getattr(case.op, "conventions", ()):
        if c.stage == stage:
            masks = c.where(case.shapes, case.kwargs)
            return Declared(
                flat.join([np.broadcast_to(m, s) for m, s in zip(masks, flat.shapes)]) > 0, c.value, c.reason
            )
    return None


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
