"""``gradcheck`` on the user's own torch code: a custom ``autograd.Function``, a module, any
function of tensors, on CPU or CUDA.

The code runs on torch, so torch is no second witness: the checker (checking/case.py) runs it
twice (engine and "torch" rows: determinism within ``nondet_tol``), and the float64 numerical
reference, central differences on the inputs' own device or the complex step where the code
runs in complex128, decides every derivative (``witnesses``: "engine = torch | numerical").
The checks torch.autograd.gradcheck makes on every call follow (contracts.py). TF32 is off
while checking (devices.py); a failure writes a replay script (script.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.catalogue.spec import REAL, UNDECLARED_KINKS, OpSpec
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.checking.settings import Settings
from gradcheck_suite.records import Record
from gradcheck_suite.result import GradcheckResult
from gradcheck_suite.strategies import Case
from gradcheck_suite.torch_code import script
from gradcheck_suite.torch_code.contracts import Contracts, contract_records
from gradcheck_suite.torch_code.devices import exact_float32
from gradcheck_suite.torch_code.function import TorchCode


@dataclass(frozen=True)
class Options:
    """torch.autograd.gradcheck's keyword arguments, as they apply here."""

    settings: Settings
    contracts: Contracts
    backward_ad: bool = True
    forward_ad: bool = False
    seed: int = 0


def check_torch_code(
    fn: Callable[..., Any], inputs: Sequence[Any], options: Options, labels: Sequence[str] | None = None,
    name: str = "gradcheck",
) -> GradcheckResult:  # fmt: skip
    """Check ``fn(*inputs)``: every tensor that requires grad is differentiated."""
    code = TorchCode(fn, inputs, labels)
    checks = ["forward"]
    checks += ["vjp-torch", "vjp-fd"] if options.backward_ad else []
    checks += ["jvp-torch", "jvp-fd"] if options.forward_ad else []
    spec = OpSpec(
        name=name, family="user", fn=_unused, shapes=st.just(tuple(a.shape for a in code.arrays)),
        domains=(REAL,) * len(code.arrays), dtypes=(code.dtype,), analytic=not code.pairs, kinks=UNDECLARED_KINKS,
        forward_ad=options.forward_ad, second_order=False,
    )  # fmt: skip
    case = Case(spec, code.dtype, tuple(code.arrays), cotangent_seed=options.seed, labels=tuple(code.labels))
    ids = CaseIds(run_id=name, seed=options.seed, example=0)
    checker = CaseChecker(code, code, checks=checks, settings=options.settings)
    with exact_float32(code.torch, code.devices) as settings:
        try:
            records = checker.check(case, ids)
        except Exception as exc:  # noqa: BLE001 - reported as the core reports its own crashes
            records = [checker.harness_error(case, ids, exc)]
        if options.backward_ad and code.outputs is not None:
            contracts = options.contracts
        else:  # no backward to check (check_backward_ad=False), or fn never returned
            contracts = Contracts(
                zero_grad=False, undefined_grad=False, batched_forward=options.contracts.batched_forward
            )
        records += contract_records(code, contracts, _maker(checker, case, ids), options.seed)
    result = GradcheckResult(
        ok=True, dtype=code.dtype, seed=options.seed, shapes=tuple(a.shape for a in code.arrays), records=records,
        labels=code.labels, settings=settings, describe_output=code.describe_output,
    )  # fmt: skip
    result.ok = not result.failures
    if not result.ok:
        _attach_script(result, code, case, name)
    return result


def _maker(checker: CaseChecker, case: Case, ids: CaseIds):
    def make(check: str, verdict: tuple[str, str], detail: str) -> Record:
        return checker.record(case, ids, check, verdict, detail=detail)

    return make


def _attach_script(result: GradcheckResult, code: TorchCode, case: Case, name: str) -> None:
    """The replay script of the first failure, written to the project cache (a failure to
    write it is said in the result, never raised: the verdict matters more)."""
    import json

    if code.pairs:  # the script's finite differences step real elements of the arguments as given
        result.script_path = None
        result.settings["replay_script_error"] = "no replay script for complex inputs yet (they are checked as pairs)"
        return
    first = result.failures[0]
    where = json.loads(first.location) if first.location else {}
    flat_size = sum(int(np.prod(o.shape)) for o in code.outputs or ())
    cotangent = case.cotangent((flat_size,))
    digest = zlib.crc32(b"".join(a.tobytes() for a in code.arrays) + cotangent.tobytes())
    title = f"{name}-{code.dtype}-{digest:08x}"
    result.script = script.replay_script(code, cotangent, where, title)
    try:
        result.script_path = str(script.write(result.script, title))
    except OSError as exc:
        result.script_path = None
        result.settings["replay_script_error"] = f"could not write the replay script: {exc}"


def _unused(ns, *tensors):
    raise AssertionError("torch code is called through TorchCode, not through the spec")


def gradgrad_function(fn: Callable[..., Any], inputs: Sequence[Any], grad_outputs: Sequence[Any]):
    """torch's gradgradcheck construction: a function of (inputs, grad_outputs) returning the
    gradients of ``fn``'s differentiable outputs with create_graph, whose own gradient is the
    second derivative. The grad_outputs that require grad are differentiated too."""
    import torch

    n = len(grad_outputs)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, torch.Tensor) and x.requires_grad]

    def grads_of(*args):
        # the differences call this without a graph: their copies must require grad again (as in torch)
        ins = [x.requires_grad_() if i in positions and not x.requires_grad else x
               for i, x in enumerate(args[: len(args) - n])]  # fmt: skip
        cotangents = args[len(args) - n :]
        with torch.enable_grad():
            outs = fn(*ins)
            outs = [o for o in (outs if isinstance(outs, (tuple, list)) else (outs,)) if o.requires_grad]
            got = torch.autograd.grad(
                outs, [ins[i] for i in positions], cotangents, create_graph=True, allow_unused=True
            )
        return tuple(g for g in got if g is not None)

    return grads_of


def grad_outputs_for(fn: Callable[..., Any], inputs: Sequence[Any], seed: int) -> tuple:
    """Random cotangents for fn's differentiable outputs (uniform in [-1, 1], seeded), requiring grad."""
    import torch

    with torch.enable_grad():
        outs = fn(*inputs)
    outs = [o for o in (outs if isinstance(outs, (tuple, list)) else (outs,)) if o.requires_grad]
    rng = np.random.default_rng(zlib.crc32(b"grad_outputs" + seed.to_bytes(8, "little")))
    return tuple(
        torch.from_numpy(rng.uniform(-1, 1, tuple(o.shape))).to(dtype=o.dtype, device=o.device).requires_grad_()
        for o in outs
    )


def module_function(module: Any, inputs: Sequence[Any], seed: int) -> tuple[Callable, tuple, list[str]]:
    """``module``'s forward as a function of (parameters, inputs), the arguments to check, and
    their names. Floating inputs are differentiated too (a copy that requires grad); buffers
    are constants, copied for every call (a training-mode BatchNorm's running statistics are
    not disturbed); every call runs from the same random state (dropout repeats its mask)."""
    import torch

    params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    buffers = dict(module.named_buffers())
    names = [n for n, _ in params]
    args = [p.detach().clone().requires_grad_() for _, p in params]
    labels = [f"parameter {n}" for n in names]
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            args.append(x if x.requires_grad else x.detach().clone().requires_grad_())
            labels.append(f"input {i}")
        else:
            args.append(x)
    devices = sorted({p.device.index for _, p in params if p.device.type == "cuda"} - {None})

    def forward(*values):
        state = {n: v for n, v in zip(names, values[: len(names)])}
        state |= {n: b.clone() for n, b in buffers.items()}
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            return torch.func.functional_call(module, state, tuple(values[len(names) :]))

    return forward, tuple(args), labels
