"""The checks torch.autograd.gradcheck makes on every call besides comparing derivatives: what
a backward must do whatever its formula is. Each gives one record.

- ``zero-grad``: backward multiplies by grad_output (a zero cotangent gives zero gradients).
- ``grad-attributes``: each gradient has its input's shape and device (and dtype, with
  ``check_grad_dtypes``).
- ``undefined-grad``: backward handles undefined output gradients: all of them undefined, and
  (for several outputs) one at a time, give undefined or zero input gradients.
- ``batched-grad``: ``torch.func.vmap`` over two cotangents gives the two VJPs one call each
  gives (where torch can batch the function: a custom Function needs a vmap rule).
- ``batched-jvp``: the same for forward-mode tangents, one input at a time.

Reentrancy (backward run twice on the same inputs) is the ``vjp-torch`` row: engine and torch
are two runs of the same code there, compared within nondet_tol.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.checking import tolerances
from gradcheck_suite.checking.compare import compare
from gradcheck_suite.torch_code.function import TorchCode

Verdict = tuple[str, str]
# (check, verdict, detail) -> Record, made by the caller (it knows the case and run)
MakeRecord = Callable[[str, Verdict, str], object]

UNBATCHABLE = ("vmap", "functorch", "batching rule", "generate_vmap_rule", "batched")


@dataclass(frozen=True)
class Contracts:
    """Which contract checks to make (torch.autograd.gradcheck's keyword arguments)."""

    zero_grad: bool = True
    grad_dtypes: bool = False
    undefined_grad: bool = True
    batched_grad: bool = False
    batched_forward: bool = False
    masked: bool = False


def contract_records(code: TorchCode, wanted: Contracts, make: MakeRecord, seed: int) -> list:
    """The contract rows for ``code`` at its inputs (in their own dtype and device)."""
    rows = []
    # the checker's own first forward at these inputs (its graph is kept), else one forward for these
    graph = (code.graph or _inputs(code)) if wanted.zero_grad or wanted.undefined_grad else None
    if wanted.zero_grad:
        rows += _zero_and_attributes(code, graph, wanted, make, seed)
    if wanted.undefined_grad:
        rows.append(_undefined(code, graph, make))
    if wanted.batched_grad:
        rows.append(_batched(code, make, seed))
    if wanted.batched_forward:
        rows.append(_batched_forward(code, make, seed))
    return rows


def _inputs(code: TorchCode) -> tuple[list, tuple]:
    inputs = code.tensors(code.arrays, requires_grad=True)
    return inputs, code.call(inputs)


def _differentiable(outs: tuple) -> list:
    return [o for o in outs if o.requires_grad]


def _random(code: TorchCode, seed: int, salt: bytes, outs) -> list:
    rng = np.random.default_rng(zlib.crc32(salt + seed.to_bytes(8, "little")))
    return [code.torch.from_numpy(rng.standard_normal(tuple(o.shape))).to(dtype=o.dtype, device=o.device) for o in outs]


def _zero_and_attributes(code: TorchCode, graph: tuple, wanted: Contracts, make: MakeRecord, seed: int) -> list:
    torch = code.torch
    inputs, outs = graph
    diff = _differentiable(outs)
    if not diff:
        why = "no output requires grad (the numerical reference checks that nothing depends on the inputs)"
        return [make("zero-grad", ("pass", f"zero-grad: {why}"), ""), make("grad-attributes", ("pass", why), "")]
    try:
        zero = torch.autograd.grad(diff, inputs, [torch.zeros_like(o) for o in diff], allow_unused=True,
                                   retain_graph=True)  # fmt: skip
        some = torch.autograd.grad(diff, inputs, _random(code, seed, b"attributes", diff), allow_unused=True,
                                   retain_graph=True)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the VJP rows report a backward that raises
        detail = f"{type(exc).__name__}: {exc}"
        return [make("zero-grad", ("unsupported", "zero-grad: backward raised (see vjp-torch)"), detail)]
    rows = []
    bad = []
    for label, g in zip(code.labels, zero):
        if g is None:
            continue
        g = g.detach()
        nonzero = ~torch.isclose(g, torch.zeros_like(g)) if wanted.masked else g != 0
        if bool(nonzero.any()):
            at = [int(i) for i in torch.nonzero(nonzero)[0].tolist()]
            bad.append(f"{label} at {at}: {g[tuple(at)].item():.6g}")
    verdict = (
        ("engine-bug", "zero-grad: backward does not multiply by grad_output: a zero cotangent gives nonzero gradients")
        if bad
        else ("pass", "zero-grad: a zero cotangent gives zero (or no) gradients")
    )
    rows.append(make("zero-grad", verdict, "; ".join(bad)))
    wrong = []
    for label, g, x in zip(code.labels, some, inputs):
        if g is None:
            continue
        if tuple(g.shape) != tuple(x.shape):
            wrong.append(f"{label}: shape {list(g.shape)} for an input of shape {list(x.shape)}")
        if g.device != x.device:
            wrong.append(f"{label}: device {g.device} for an input on {x.device}")
        if wanted.grad_dtypes and g.dtype != x.dtype:
            wrong.append(f"{label}: dtype {g.dtype} for an input of dtype {x.dtype}")
    what = "shape, device and dtype" if wanted.grad_dtypes else "shape and device"
    verdict = (
        ("engine-bug", f"grad-attributes: a gradient's {what} differ from its input's")
        if wrong
        else ("pass", f"grad-attributes: every gradient has its input's {what}")
    )
    rows.append(make("grad-attributes", verdict, "; ".join(wrong)))
    return rows


def _undefined(code: TorchCode, graph: tuple, make: MakeRecord) -> object:
    """torch's check: backward must accept undefined output gradients and give undefined or
    zero input gradients; with several outputs, also one undefined at a time (each on the
    same graph, kept for the next)."""
    torch = code.torch
    undefined = getattr(getattr(torch._C, "_functions", None), "UndefinedGrad", None)
    if undefined is None:
        return make("undefined-grad", ("unsupported", "undefined-grad: this torch has no UndefinedGrad"), "")
    count = len(code.outputs or ())  # floating outputs; those that do not require grad are skipped below
    plans = [None] + (list(range(count)) if count > 1 else [])  # None: every output undefined
    inputs, outs = graph
    for which in plans:
        diff = _differentiable(outs)
        if not diff:
            return make("undefined-grad", ("pass", "undefined-grad: no output requires grad"), "")
        checked = [undefined()(o) if which is None or k == which else o for k, o in enumerate(diff)]
        cotangents = [torch.zeros_like(o) for o in checked]
        what = "every output gradient undefined" if which is None else f"the gradient of output {which} undefined"
        try:
            grads = torch.autograd.grad(checked, inputs, cotangents, allow_unused=True, retain_graph=True)
        except RuntimeError as exc:
            return make(
                "undefined-grad", ("engine-bug", f"undefined-grad: backward raised with {what}"),
                f"RuntimeError: {exc}",
            )  # fmt: skip
        for label, g in zip(code.labels, grads):
            if g is not None and not bool((g == 0).all()):
                return make(
                    "undefined-grad",
                    ("engine-bug", f"undefined-grad: with {what}, {label}'s gradient is neither undefined nor zero"),
                    f"largest {g.abs().max().item():.6g}",
                )
    return make(
        "undefined-grad", ("pass", "undefined-grad: undefined output gradients give undefined or zero ones"), ""
    )


def _unbatchable(exc: BaseException) -> bool:
    return any(word in str(exc).lower() for word in UNBATCHABLE)


def _agree(code: TorchCode, got: list, expected: list, make: MakeRecord, check: str, labels: list[str]) -> object:
    """Batched against one-at-a-time results, within the rounding budget of the case's dtype."""
    for label, g, e in zip(labels, got, expected):
        g64, e64 = g.detach().cpu().double().numpy(), e.detach().cpu().double().numpy()
        cmp = compare(g64, e64, tolerances.budget(e64, code.numeric_dtype, n_terms=max(1, e64.size)))
        if not cmp.ok:
            return make(
                check, ("engine-bug", f"{check}: the batched result differs from one call per vector"),
                f"{label} at {list(cmp.worst)}: batched {cmp.actual:.9g}, one at a time {cmp.expected:.9g}",
            )  # fmt: skip
    return make(check, ("pass", f"{check}: the batched result equals one call per vector"), "")


def _batched(code: TorchCode, make: MakeRecord, seed: int) -> object:
    torch = code.torch
    inputs, outs = _inputs(code)
    diff = _differentiable(outs)
    if not diff:
        return make("batched-grad", ("pass", "batched-grad: no output requires grad"), "")

    def vjp(*vs):
        grads = torch.autograd.grad(diff, inputs, vs, retain_graph=True, allow_unused=True)
        return tuple(torch.zeros_like(x) if g is None else g for g, x in zip(grads, inputs))

    vectors = [_random(code, seed + k, b"batched", diff) for k in range(2)]
    try:
        expected = [torch.stack(parts) for parts in zip(*(vjp(*vs) for vs in vectors))]
        got = torch.func.vmap(vjp)(*(torch.stack(parts) for parts in zip(*vectors)))
    except RuntimeError as exc:
        if _unbatchable(exc):
            return make("batched-grad", ("unsupported", "batched-grad: torch cannot vmap this backward"), str(exc))
        return make("batched-grad", ("engine-bug", "batched-grad: the batched backward raised"), str(exc))
    return _agree(code, list(got), expected, make, "batched-grad", code.labels)


def _batched_forward(code: TorchCode, make: MakeRecord, seed: int) -> object:
    torch = code.torch
    fwad = torch.autograd.forward_ad
    primals = code.tensors(code.arrays, requires_grad=False)
    rng = np.random.default_rng(zlib.crc32(b"batched-jvp" + seed.to_bytes(8, "little")))
    for n, (label, p) in enumerate(zip(code.labels, primals)):

        def jvp(tangent, n=n):
            with fwad.dual_level():
                args = list(primals)
                args[n] = fwad.make_dual(primals[n], tangent)
                return tuple(
                    torch.zeros_like(o) if t is None else t
                    for o, t in (fwad.unpack_dual(o) for o in code.call(args))
                )  # fmt: skip

        tangents = torch.from_numpy(rng.standard_normal((2, *p.shape))).to(dtype=p.dtype, device=p.device)
        try:
            expected = [torch.stack(parts) for parts in zip(*(jvp(t) for t in tangents))]
            got = torch.func.vmap(jvp)(tangents)
        except RuntimeError as exc:
            if _unbatchable(exc):
                return make("batched-jvp", ("unsupported", "batched-jvp: torch cannot vmap this forward AD"), str(exc))
            return make("batched-jvp", ("engine-bug", f"batched-jvp: the batched JVP raised ({label})"), str(exc))
        row = _agree(code, list(got), expected, make, "batched-jvp", [f"output along {label}"] * len(expected))
        if getattr(row, "verdict", "pass") != "pass":
            return row
    return make("batched-jvp", ("pass", "batched-jvp: the batched JVPs equal one call per tangent"), "")
