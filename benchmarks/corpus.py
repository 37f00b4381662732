"""Correct but numerically demanding functions: the false-alarm corpus.

Every function is right by construction (composed of engine ops whose gradients are
correct) and its derivative is numerically meaningful in the dtype it runs in (ranges
are chosen per dtype so that nothing overflows and no rounding error swamps the
gradient), so any checker that rejects one raises a false alarm. Each is written with
tensor methods and operators only, so the same callable runs on reference tensors and
on torch tensors. ``make(rng, dtype)`` draws its inputs (float64 arrays, cast by the
caller); ranges may depend on the dtype so that values stay finite in float32.

Categories: large values, huge and tiny scales, saturation, cancellation,
ill-conditioning (near-singular systems written out with products), long chains,
and the issue's example ``exp(tanh(x @ w).sum(-1))`` on 64 x 64 inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import corpus_functions as f
import numpy as np


@dataclass(frozen=True)
class Entry:
    """A corpus function: ``fn(*tensors)`` (methods and operators only), or with ``ns``
    set, ``fn(ns, *tensors)`` for functions that need the module (``ns.linalg.solve``).
    ``requires`` names what the reference engine must have (``"linalg.solve"``,
    ``"Tensor.sigmoid"``); entries whose op the engine lacks are skipped."""

    name: str
    category: str
    fn: Callable
    make: Callable[[np.random.Generator, str], tuple[np.ndarray, ...]]
    doc: str = ""
    ns: bool = False
    requires: tuple[str, ...] = ()

    def available(self) -> bool:
        import reference

        return all(_has(reference, path) for path in self.requires)

    def callables(self) -> tuple[Callable, Callable]:
        """The function on reference tensors and on torch tensors."""
        if not self.ns:
            return self.fn, self.fn
        import torch

        import reference

        return functools.partial(self.fn, reference), functools.partial(self.fn, torch)


def _has(obj, path: str) -> bool:
    for part in path.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def _f32(dtype: str) -> bool:
    return dtype == "float32"


def _signed(rng, low: float, high: float, shape) -> np.ndarray:
    """Magnitudes in [low, high] with random signs."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _near_singular(rng, n: int, smallest: float) -> np.ndarray:
    """An n x n matrix with singular values from 1 down to ``smallest``."""
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q1 @ np.diag(np.geomspace(1.0, smallest, n)) @ q2


# -- inputs ---------------------------------------------------------------------------------


def _close_pair(rng, scale: float, gap: float, n: int = 6):
    x = rng.uniform(scale, 2 * scale, n)
    return x + gap * rng.uniform(1, 2, n) * max(scale, 1.0), x


def _quadratic_form_inputs(rng, dtype):
    a = _symmetric(rng, 4)
    return rng.standard_normal((3, 4)) * 10, a, a + 1e-8 * _symmetric(rng, 4)


def _symmetric(rng, n: int) -> np.ndarray:
    m = rng.standard_normal((n, n))
    return (m + m.T) / 2


def _newton_schulz_inputs(rng, dtype):
    a = _near_singular(rng, 6, 1e-3)
    x0 = a.T / (np.abs(a).sum(0).max() * np.abs(a).sum(1).max())
    return a, x0


def _det_inputs(rng, n: int = 6, gap: float = 1e-5):
    a, b, c = rng.uniform(0.5, 2, n), rng.uniform(0.5, 2, n), rng.uniform(0.5, 2, n)
    d = b * c / a * (1 + gap * rng.choice([-1.0, 1.0], n))  # det = a d - b c ~ gap
    return a, b, c, d


ENTRIES: list[Entry] = [
    Entry("issue_example", "issue", f.issue_example,
          lambda rng, dt: (rng.standard_normal((64, 64)), rng.standard_normal((64, 64))),
          "exp(tanh(x @ w).sum(-1)), 64 x 64: torch.autograd.gradcheck rejects it in float64"),
    Entry("weighted_exp", "large", f.weighted_exp,
          lambda rng, dt: (rng.uniform(20, 40, (4, 5)), rng.standard_normal((4, 5)))),
    Entry("exp_sum", "large", f.exp_sum,
          lambda rng, dt: (rng.uniform(60, 85, (3, 4)) if _f32(dt) else rng.uniform(600, 700, (3, 4)),)),
    Entry("high_power", "large", f.high_power, lambda rng, dt: (rng.uniform(2, 6, (4, 3)),)),
    Entry("scaled_tanh_1e8", "huge", f.scaled_tanh_1e8, lambda rng, dt: (_signed(rng, 1e7, 3e8, (8,)),)),
    Entry("scaled_tanh_1e30", "huge", f.scaled_tanh_1e30, lambda rng, dt: (_signed(rng, 1e29, 3e30, (8,)),)),
    Entry("mean_of_huge", "huge", f.mean_of_huge,
          lambda rng, dt: (_signed(rng, 1e9, 1e10, (5,)), _signed(rng, 1e9, 1e10, (5,)))),
    Entry("tiny_quadratic", "tiny", f.tiny_quadratic, lambda rng, dt: (_signed(rng, 1e-31, 1e-30, (6,)),)),
    Entry("tiny_log", "tiny", f.tiny_log, lambda rng, dt: (rng.uniform(1e-30, 1e-20, (6,)),)),
    Entry("tiny_reciprocal_mix", "tiny", f.tiny_reciprocal_mix,
          lambda rng, dt: (_signed(rng, 1e-6, 1e-5, (3, 4)), _signed(rng, 1e-6, 1e-5, (3, 4)))),
    Entry("tanh_saturated", "saturation", f.tanh_saturated,
          lambda rng, dt: (_signed(rng, 5, 20, (4, 6)), rng.standard_normal((4, 6)))),
    Entry("sigmoid_manual", "saturation", f.sigmoid_manual, lambda rng, dt: (_signed(rng, 10, 40, (10,)),)),
    Entry("softplus_manual", "saturation", f.softplus_manual, lambda rng, dt: (rng.uniform(-30, 30, (10,)),)),
    Entry("logistic_loss", "saturation", f.logistic_loss,
          lambda rng, dt: (rng.standard_normal((8, 5)) * 6, rng.standard_normal((5,)) * 4)),
    Entry("softmax_manual", "saturation", f.softmax_manual,
          lambda rng, dt: (rng.uniform(0, 40 if _f32(dt) else 80, (3, 5)),)),
    Entry("logsumexp_naive", "saturation", f.logsumexp_naive, lambda rng, dt: (rng.uniform(-50, 50, (4, 6)),)),
    Entry("cross_entropy_manual", "saturation", f.cross_entropy_manual,
          lambda rng, dt: (rng.uniform(-40, 40, (4, 5)), rng.dirichlet(np.ones(5), 4))),
    Entry("log_of_difference", "cancellation", f.log_of_difference,
          lambda rng, dt: _close_pair(rng, 1.0, 1e-3 if _f32(dt) else 1e-7)),
    Entry("exp_difference", "cancellation", f.exp_difference, lambda rng, dt: _close_pair(rng, 30.0, 1e-9)),
    Entry("expm1_over_x", "cancellation", f.expm1_over_x,
          lambda rng, dt: (_signed(rng, 1e-2, 1e-1, (6,)) if _f32(dt) else _signed(rng, 1e-4, 1e-3, (6,)),)),
    Entry("variance_naive", "cancellation", f.variance_naive,
          lambda rng, dt: (1e2 + rng.standard_normal((3, 8)) * 1e-2,)),
    Entry("norm_of_difference", "cancellation", f.norm_of_difference, lambda rng, dt: _close_pair(rng, 1.0, 1e-7)),
    Entry("polynomial_expanded", "cancellation", f.polynomial_expanded,
          lambda rng, dt: (1 + _signed(rng, 0.05, 0.2, (8,)),)),
    Entry("quadratic_form_difference", "cancellation", f.quadratic_form_difference, _quadratic_form_inputs),
    Entry("inverse_2x2", "ill-conditioned", f.inverse_2x2, lambda rng, dt: _det_inputs(rng)),
    Entry("cramer_solve", "ill-conditioned", f.cramer_solve,
          lambda rng, dt: (*_det_inputs(rng), rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6))),
    Entry("newton_schulz", "ill-conditioned", f.newton_schulz, _newton_schulz_inputs),
    Entry("matrix_power", "ill-conditioned", f.matrix_power,
          lambda rng, dt: (_near_singular(rng, 5, 1e-4) * 1.6,)),
    Entry("long_tanh_chain", "long-chain", f.long_tanh_chain, lambda rng, dt: (rng.standard_normal((10,)),)),
    Entry("long_mixed_chain", "long-chain", f.long_mixed_chain,
          lambda rng, dt: (rng.standard_normal((3, 4)), rng.uniform(0.5, 1.5, (4,)))),
    Entry("deep_mlp", "long-chain", f.deep_mlp,
          lambda rng, dt: (rng.standard_normal((4, 6)), *(rng.standard_normal((6, 6)) for _ in range(6)))),
    Entry("recurrent", "long-chain", f.recurrent,
          lambda rng, dt: (rng.standard_normal((2, 5)), rng.standard_normal((5, 5)) * 0.6,
                           rng.standard_normal((3, 5)), rng.standard_normal((2, 3)))),
    Entry("rayleigh_power_iteration", "long-chain", f.rayleigh_power_iteration,
          lambda rng, dt: (_symmetric(rng, 6), rng.standard_normal((6,)))),
    Entry("compound_interest", "cancellation", f.compound_interest, lambda rng, dt: (rng.uniform(0.01, 0.1, (5,)),)),
    Entry("rosenbrock_large", "large", f.rosenbrock_large,
          lambda rng, dt: (rng.uniform(-1e3, 1e3, (6,)), rng.uniform(-1e3, 1e3, (6,)))),
    Entry("gaussian_nll_tiny_sigma", "tiny", f.gaussian_nll_tiny_sigma,
          lambda rng, dt: (rng.standard_normal(6), rng.standard_normal(6), rng.uniform(1e-4, 1e-3, 6))),
    Entry("normalize_tiny", "tiny", f.normalize, lambda rng, dt: (rng.standard_normal((3, 4)) * 1e-15,)),
    Entry("normalize_huge", "huge", f.normalize, lambda rng, dt: (rng.standard_normal((3, 4)) * 1e15,)),
    Entry("batched_bilinear", "large", f.batched_bilinear,
          lambda rng, dt: (rng.standard_normal((3, 4)) * 1e3, rng.standard_normal((3, 4, 4)),
                           rng.standard_normal((3, 4)) * 1e3)),
    Entry("permuted_products", "large", f.permuted_products,
          lambda rng, dt: (rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 5)) * 2)),
    Entry("product_of_many", "large", f.product_of_many, lambda rng, dt: (rng.uniform(1, 9, (2, 16)),)),
    Entry("sigmoid_far", "saturation", f.sigmoid_far, lambda rng, dt: (_signed(rng, 10, 40, (10,)),),
          requires=("Tensor.sigmoid",)),
    Entry("softmax_large", "saturation", f.softmax_large, lambda rng, dt: (rng.uniform(0, 200, (3, 6)),),
          requires=("Tensor.softmax",)),
    Entry("log_softmax_large", "saturation", f.log_softmax_large, lambda rng, dt: (rng.uniform(-100, 100, (3, 6)),),
          requires=("Tensor.log_softmax",)),
    Entry("logsumexp_large", "large", f.logsumexp_large, lambda rng, dt: (rng.uniform(500, 700, (3, 6)),),
          requires=("Tensor.logsumexp",)),
    Entry("sqrt_tiny", "tiny", f.sqrt_tiny, lambda rng, dt: (rng.uniform(1e-20, 1e-18, (6,)),),
          requires=("Tensor.sqrt",)),
    Entry("log1p_tiny", "tiny", f.log1p_tiny, lambda rng, dt: (_signed(rng, 1e-12, 1e-10, (6,)),),
          requires=("Tensor.log1p",)),
    Entry("expm1_tiny", "tiny", f.expm1_tiny, lambda rng, dt: (_signed(rng, 1e-12, 1e-10, (6,)),),
          requires=("Tensor.expm1",)),
    Entry("sin_large_argument", "huge", f.sin_large_argument,
          lambda rng, dt: (_signed(rng, 1e3, 1e4, (6,)) if _f32(dt) else _signed(rng, 1e6, 1e8, (6,)),),
          requires=("Tensor.sin",)),
    Entry("erf_saturated", "saturation", f.erf_saturated,
          lambda rng, dt: (_signed(rng, 3, 6, (8,)), rng.standard_normal(8)), requires=("Tensor.erf",)),
    Entry("std_near_constant", "cancellation", f.std_near_constant,
          lambda rng, dt: (1 + rng.standard_normal((3, 6)) * (1e-3 if _f32(dt) else 1e-7),), requires=("Tensor.std",)),
    Entry("var_large_offset", "cancellation", f.var_large_offset,
          lambda rng, dt: (1e4 + rng.standard_normal((3, 6)),), requires=("Tensor.var",)),
    Entry("cumprod_long", "long-chain", f.cumprod_long, lambda rng, dt: (rng.uniform(0.5, 3, (2, 30)),),
          requires=("Tensor.cumprod",)),
    Entry("prod_many", "large", f.prod_many, lambda rng, dt: (rng.uniform(1, 10, (3, 20)),), requires=("Tensor.prod",)),
    Entry("solve_near_singular", "ill-conditioned", f.solve_near_singular,
          lambda rng, dt: (_near_singular(rng, 5, 1e-3 if _f32(dt) else 1e-8), rng.standard_normal((5, 2))),
          ns=True, requires=("linalg.solve",)),
    Entry("inv_near_singular", "ill-conditioned", f.inv_near_singular,
          lambda rng, dt: (_near_singular(rng, 4, 1e-2 if _f32(dt) else 1e-6),), ns=True, requires=("linalg.inv",)),
    Entry("det_near_singular", "ill-conditioned", f.det_near_singular,
          lambda rng, dt: (_near_singular(rng, 5, 1e-3 if _f32(dt) else 1e-9),), ns=True, requires=("linalg.det",)),
    Entry("layer_norm_tiny_variance", "ill-conditioned", f.layer_norm_tiny_variance,
          lambda rng, dt: (3 + rng.standard_normal((4, 8)) * 1e-3, rng.standard_normal(8)),
          ns=True, requires=("nn.functional.layer_norm",)),
    Entry("cross_entropy_large_logits", "saturation", f.cross_entropy_large_logits,
          lambda rng, dt: (rng.uniform(-60, 60, (4, 5)),), ns=True, requires=("nn.functional.cross_entropy",)),
    Entry("bce_with_logits_large", "saturation", f.bce_with_logits_large,
          lambda rng, dt: (_signed(rng, 20, 60, (8,)), rng.uniform(0, 1, 8)),
          ns=True, requires=("nn.functional.binary_cross_entropy_with_logits",)),
    Entry("silu_far", "saturation", f.silu_far, lambda rng, dt: (_signed(rng, 15, 40, (8,)),),
          ns=True, requires=("nn.functional.silu",)),
    Entry("einsum_bilinear_large", "large", f.einsum_bilinear_large,
          lambda rng, dt: (rng.standard_normal((3, 4)) * 1e4, rng.standard_normal((3, 4, 4)),
                           rng.standard_normal((3, 4)) * 1e4), ns=True, requires=("einsum",)),
    Entry("conv2d_large", "large", f.conv2d_large,
          lambda rng, dt: (rng.standard_normal((1, 2, 5, 5)) * 30, rng.standard_normal((3, 2, 3, 3))),
          ns=True, requires=("nn.functional.conv2d",)),
]  # fmt: skip


def inputs(entry: Entry, seed: int, dtype: str) -> tuple[np.ndarray, ...]:
    """The entry's inputs for one seed, in ``dtype``."""
    rng = np.random.default_rng([seed, *entry.name.encode()])
    return tuple(np.asarray(a, dtype=np.float64).astype(dtype) for a in entry.make(rng, dtype))
