"""``gradcheck``, ``gradgradcheck``, ``check_module``: torch.autograd.gradcheck's interface on
gradcheck-suite's witnesses.

    >>> import torch, gradcheck_suite as gs
    >>> x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    >>> gs.gradcheck(torch.nn.functional.softplus, (x,))
    True

Two kinds of ``fn``:

- **torch code** (inputs are torch tensors): a custom ``autograd.Function``, a module, any
  function of tensors, on CPU or CUDA. It runs on torch, so torch is no second witness: the
  float64 numerical reference decides (torch_code/dropin.py), and the checks torch makes on
  every call follow (zero grad_output, gradient attributes, undefined gradients, reentrancy,
  batched gradients).
- **an engine function** (inputs are NumPy arrays): ``fn`` written against an engine's
  torch-mirroring API (the reference engine's by default), checked against torch.autograd
  and the numerical reference (engine_fn.py); ``torch_fn=False`` leaves torch out.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from gradcheck_suite.checking.settings import Settings
from gradcheck_suite.oracles import finite_diff
from gradcheck_suite.result import LEGEND, GradcheckError, GradcheckResult

FAST_PROBES = 2  # fast_mode: two probes (miss probability <= 1/4 per wrong element) instead of four
TORCH_ONLY = ("check_undefined_grad", "check_grad_dtypes", "check_batched_grad", "check_batched_forward_grad")


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
    torch_fn: Callable[..., Any] | bool | None = None,
    engine: Any = "reference",
    seed: int = 0,
    check_second_order: bool = False,
    match_torch_at_kinks: bool = False,
    full_result: bool = False,
) -> bool | GradcheckResult:
    """Check the derivatives of ``fn`` at ``inputs``; True when every check passes.

    Parameters (torch.autograd.gradcheck's, with their meaning here)
    ----------------------------------------------------------------
    fn : callable
        Torch code (tensors in, a tensor or a tuple of tensors out), or an engine function.
    inputs : tensor, array, or a sequence of them
        Torch tensors: those with ``requires_grad=True`` (float32 or float64, any device) are
        differentiated, every other argument is a constant. NumPy arrays: an engine function's
        inputs, all differentiated. A non-finite input element is an error that names it.
    eps : float, optional
        The finite-difference step for elements of magnitude up to 1 (growing with larger
        ones). Default: eps64^(1/3) ~ 6e-6, narrowed where the function is ill-conditioned;
        differences always run in float64 with Richardson extrapolation and an error estimate.
    atol, rtol : float, optional
        Your own allowance: differences within atol + rtol |expected| pass even where the error
        budget (rounding floor, measured noise, the reference's error) is tighter. Default: none.
    raise_exception : bool, default True
        Raise ``GradcheckError`` (an AssertionError and a RuntimeError) on failure; else return False.
    nondet_tol : float, default 0.0
        How far two runs of the same backward may differ (torch code: backward is reentrant).
    check_undefined_grad, check_grad_dtypes, check_batched_grad, check_batched_forward_grad : bool
        torch code's contract checks: undefined output gradients, gradient dtypes, vmap over
        cotangents, vmap over forward-mode tangents (defaults as torch: True, False, False, False).
    check_forward_ad, check_backward_ad : bool, default False, True
        Check forward mode (J u), backward mode (v^T J).
    fast_mode : bool, default False
        Two random probes for the gradient whatever the input size (miss probability <= 1/4 per
        wrong element, said in the row); by default the full gradient up to 64 input elements
        and four probes above (<= 1/16).
    masked : bool, optional
        Accepted for torch's signature: sparse inputs are not supported, so it changes nothing.

    Parameters of gradcheck-suite's own
    -----------------------------------
    torch_fn : callable, False or None
        Engine functions: the same function for torch (default: ``fn`` itself); False: torch is
        not consulted, the numerical reference alone decides.
    engine : str or Engine, default "reference"
        The engine an engine function runs on.
    seed : int, default 0
        Seeds the cotangent and the probes, so a call is deterministic.
    check_second_order : bool
        Engine functions: also the VJP of the VJP (torch code: use ``gradgradcheck``).
    match_torch_at_kinks : bool
        Engine functions: demand torch's choice at kinks (else any value between the one-sided
        derivatives is a ``convention``).
    full_result : bool
        Return the ``GradcheckResult`` (truthy when it passed) instead of a bool.
    """
    options = dict(
        eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
        check_batched_forward_grad=check_batched_forward_grad, check_forward_ad=check_forward_ad,
        check_backward_ad=check_backward_ad, fast_mode=fast_mode, masked=masked, torch_fn=torch_fn, engine=engine,
        seed=seed, check_second_order=check_second_order, match_torch_at_kinks=match_torch_at_kinks,
    )  # fmt: skip
    result = check(fn, inputs, per_input=full_result, **options)
    return _finish(result, raise_exception, full_result)


def check(fn: Callable[..., Any], inputs: Any, *, per_input: bool = True, **options: Any) -> GradcheckResult:
    """``gradcheck``'s full ``GradcheckResult`` (keyword arguments as ``gradcheck``'s); never
    raises for a failing check. ``per_input``: engine functions also check each input alone."""
    o, seed = _resolved(options)
    settings = _settings(o)
    if _is_torch(inputs):
        return _torch_code(fn, inputs, o, seed)
    set_torch_only = [k for k in TORCH_ONLY if o[k] != _DEFAULTS[k]]
    if set_torch_only:
        raise ValueError(f"gradcheck: {', '.join(set_torch_only)} apply to torch code (torch tensors as inputs)")
    from gradcheck_suite.engine_fn import EngineFunction

    checks = ["forward"]
    checks += ["vjp-torch", "vjp-fd"] if o["check_backward_ad"] or o["check_second_order"] else []
    checks += ["jvp-torch", "jvp-fd"] if o["check_forward_ad"] else []
    checks += ["hvp-torch", "hvp-fd"] if o["check_second_order"] else []
    runner = EngineFunction(
        fn, inputs, o["torch_fn"], o["engine"], seed, checks, settings, o["match_torch_at_kinks"],
        o["check_forward_ad"], o["check_second_order"],
    )  # fmt: skip
    return runner.run(per_input=per_input)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    raise_exception: bool = True,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    gen_non_contig_grad_outputs: bool = False,
    full_result: bool = False,
    **options: Any,
) -> bool | GradcheckResult:
    """Check the second derivatives of torch code, as torch.autograd.gradgradcheck does: the
    gradients of ``fn`` (with ``create_graph``) as a function of the inputs and of the
    ``grad_outputs`` (random, seeded, when None) are checked by ``gradcheck``. Keyword
    arguments are gradcheck's (``check_fwd_over_rev``/``check_rev_over_rev``: its forward/backward AD;
    ``gen_non_contig_grad_outputs`` is accepted for torch's signature: layout changes no value here)."""
    from gradcheck_suite.torch_code.dropin import grad_outputs_for, gradgrad_function

    if not _is_torch(inputs):
        raise TypeError("gradgradcheck checks torch code (torch tensors as inputs); for an engine function use "
                        "gradcheck(..., check_second_order=True)")  # fmt: skip
    inputs = _as_tuple(inputs)
    seed = _seed(options.get("seed", 0))
    grad_outputs = grad_outputs_for(fn, inputs, seed) if grad_outputs is None else _as_tuple(grad_outputs)
    labels = _labels(inputs) + [f"grad_output {i}" for i, g in enumerate(grad_outputs) if g.requires_grad]
    options = {**options, "check_forward_ad": check_fwd_over_rev, "check_backward_ad": check_rev_over_rev}
    result = _check_torch(gradgrad_function(fn, inputs, grad_outputs), (*inputs, *grad_outputs), options, labels)
    return _finish(result, raise_exception, full_result)


def check_module(
    module: Any, *inputs: Any, raise_exception: bool = True, full_result: bool = False, **options: Any
) -> bool | GradcheckResult:
    """Check the gradients of ``module``'s parameters and of its floating inputs at ``inputs``
    (``module(*inputs)``). Failures name the parameter (``parameter fc.weight``) or input.
    The module runs as it is (train or eval), from the same random state at every call, and
    its buffers are not changed. Keyword arguments are gradcheck's."""
    from gradcheck_suite.torch_code.dropin import module_function

    seed = _seed(options.get("seed", 0))
    forward, args, labels = module_function(module, inputs, seed)
    result = _check_torch(forward, args, options, labels, name=f"check_module.{type(module).__name__}")
    return _finish(result, raise_exception, full_result)


# -- shared ------------------------------------------------------------------------------------

_DEFAULTS: dict[str, Any] = {
    "eps": None, "atol": None, "rtol": None, "nondet_tol": 0.0, "check_undefined_grad": True,
    "check_grad_dtypes": False, "check_batched_grad": False, "check_batched_forward_grad": False,
    "check_forward_ad": False, "check_backward_ad": True, "fast_mode": False, "masked": None, "torch_fn": None,
    "engine": "reference", "seed": 0, "check_second_order": False, "match_torch_at_kinks": False,
}  # fmt: skip


def _resolved(options: dict) -> tuple[dict, int]:
    """gradcheck's keyword arguments with their defaults, validated, and the seed."""
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"gradcheck got unexpected keyword argument(s) {', '.join(unknown)}")
    o = {**_DEFAULTS, **options}
    if not (o["check_forward_ad"] or o["check_backward_ad"]):
        raise ValueError("gradcheck: check_forward_ad and check_backward_ad are both off: nothing to check")
    return o, _seed(o["seed"])


def _check_torch(fn, inputs, options: dict, labels: list[str], name: str = "gradcheck") -> GradcheckResult:
    o, seed = _resolved(options)
    return _torch_code(fn, inputs, o, seed, labels, name)


def _settings(o: dict) -> Settings:
    """The checker's settings from gradcheck's keyword arguments. fast_mode: probes at any
    size, and FAST_PROBES of them (each misses a wrong element with probability <= 1/2)."""
    fast = o["fast_mode"]
    return Settings(
        probes=FAST_PROBES if fast else finite_diff.PROBES, full_limit=0 if fast else finite_diff.FULL_LIMIT,
        step=o["eps"], atol=o["atol"] or 0.0, rtol=o["rtol"] or 0.0, nondet_tol=o["nondet_tol"],
    )  # fmt: skip


def _torch_code(fn, inputs, o: dict, seed: int, labels=None, name="gradcheck") -> GradcheckResult:
    from gradcheck_suite.torch_code.contracts import Contracts
    from gradcheck_suite.torch_code.dropin import Options, check_torch_code

    for key in ("torch_fn", "check_second_order", "match_torch_at_kinks"):
        if o[key] != _DEFAULTS[key]:
            raise ValueError(f"gradcheck: {key} applies to engine functions (NumPy inputs), not to torch code")
    contracts = Contracts(
        zero_grad=True, grad_dtypes=o["check_grad_dtypes"], undefined_grad=o["check_undefined_grad"],
        batched_grad=o["check_batched_grad"], batched_forward=o["check_batched_forward_grad"],
        masked=bool(o["masked"]),
    )  # fmt: skip
    settings = dataclasses.replace(_settings(o), raise_fails=True)  # the code under test must run
    options = Options(settings, contracts, o["check_backward_ad"], o["check_forward_ad"], seed)
    return check_torch_code(fn, _as_tuple(inputs), options, labels, name)


def _finish(result: GradcheckResult, raise_exception: bool, full_result: bool) -> bool | GradcheckResult:
    if not result.ok and raise_exception:
        raise GradcheckError(result.message(), result)
    return result if full_result else result.ok


def _seed(seed: Any) -> int:
    import numpy as np

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"gradcheck: seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _is_torch(inputs: Any) -> bool:
    """Whether the inputs hold a torch tensor (torch imported by the caller, so no import here)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    items = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    return any(isinstance(x, torch.Tensor) for x in items)


def _as_tuple(inputs: Any) -> tuple:
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _labels(inputs: tuple) -> list[str]:
    import torch

    return [f"input {i}" for i, x in enumerate(inputs) if isinstance(x, torch.Tensor) and x.requires_grad]


__all__ = ["LEGEND", "GradcheckError", "GradcheckResult", "check", "check_module", "gradcheck", "gradgradcheck"]
