"""Wrong gradients planted in the reference engine: the mutants of benchmarks/mutations.py.

A mutant replaces one backward rule (a ``Function.backward`` of reference/ops) or one
piece of the backward engine (the broadcast reduction ``to_input``, the gradient buffer
that sums contributions of a reused value) for the duration of a ``with`` block, and
names a function ``f(ns, *tensors)`` whose gradient goes through the planted bug.
Forward computations are never touched, so finite differences still see the right
function. The replaced rules run without ``create_graph``, so they may use NumPy freely.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mutant:
    name: str
    kind: str  # sign, missing-term, transpose, reduction, axis, accumulation, factor, tiny, formula
    target: tuple[str, str, str]  # (module, owner, attribute) that the bug replaces
    replacement: Callable  # the planted rule (a backward, or an engine function)
    fn: Callable  # f(ns, *tensors): exercises the rule
    make: Callable[[np.random.Generator], tuple[np.ndarray, ...]]  # float64 inputs

    def available(self) -> bool:
        try:
            _owner(self.target)
        except (ImportError, AttributeError):
            return False
        return True

    @contextlib.contextmanager
    def planted(self) -> Iterator[None]:
        """The engine with this bug, restored on exit (even after an error)."""
        owner = _owner(self.target)
        attr = self.target[2]
        is_class = isinstance(owner, type)
        own = not is_class or attr in owner.__dict__  # else inherited (a shared base's rule)
        original = (owner.__dict__[attr] if is_class else getattr(owner, attr)) if own else None
        setattr(owner, attr, staticmethod(self.replacement) if is_class else self.replacement)
        try:
            yield
        finally:
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def _owner(target: tuple[str, str, str]):
    """The object holding the rule; the module may name several candidates ("a|b", the first
    that has the owner wins: the engine moves classes between modules as it grows)."""
    module_names, owner_name, attr = target
    error: Exception = ImportError(module_names)
    for module_name in module_names.split("|"):
        try:
            owner = importlib.import_module(module_name)
            if owner_name:
                owner = getattr(owner, owner_name)
            getattr(owner, attr)
            return owner
        except (ImportError, AttributeError) as exc:
            error = exc
    raise error


# -- input makers -----------------------------------------------------------------------------


def normal(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


def positive(*shapes):
    return lambda rng: tuple(rng.uniform(0.5, 2.0, s) for s in shapes)


# -- helpers for planted rules -------------------------------------------------------------------

PW, RED, LIN = "reference.ops.pointwise", "reference.ops.reduction", "reference.ops.linalg"
SHP = "reference.ops.shape|reference.ops.shape_views"
ENGINE = "reference.autograd.engine"


def _saved(ctx):
    return ctx.saved_tensors


def _scaled(rule: Callable, factor: float) -> Callable:
    """``rule`` with every gradient multiplied by ``factor`` (tiny relative errors)."""

    def backward(ctx, g):
        out = rule(ctx, g)
        return tuple(None if o is None else o * factor for o in out) if isinstance(out, tuple) else out * factor

    return backward


def _exp_rule(ctx, g):
    return g * _saved(ctx)[0]


def _unbroadcast_with(reduce: Callable) -> Callable:
    """The engine's ``to_input`` with ``reduce(grad, axes, shape)`` in place of its sum over
    the broadcast axes (axes as the engine's own ``_reduce_axes`` finds them)."""

    def to_input(grad, shape, np_dtype):
        from reference.autograd.broadcast import _reduce_axes

        grad = np.asarray(grad)
        axes = _reduce_axes(grad.shape, shape) if grad.shape != shape else None
        if axes:
            grad = reduce(grad, axes, shape)
        return np.broadcast_to(grad, shape).astype(np_dtype)

    return to_input


def _mean_over(grad, axes, shape):
    return grad.mean(axis=axes, keepdims=True).reshape(shape)


def _first_slice_of_leading(grad, axes, shape):
    """Leading broadcast dims: the first slice instead of the sum."""
    lead = grad.ndim - len(shape)
    rest = tuple(a - lead for a in axes if a >= lead)
    grad = grad[(0,) * lead]
    return grad.sum(axis=rest, keepdims=True) if rest else grad


def _neighbouring_axis(grad, axes, shape):
    """Each size-1 dim's gradient summed over the next axis instead (off by one)."""
    wrong = tuple((a + 1) % grad.ndim for a in axes)
    return grad.sum(axis=wrong, keepdims=True).reshape(shape)


def _buffer_keeping(which: str) -> Callable:
    """The engine's gradient buffer, keeping the ``first`` or ``last`` contribution to a
    reused value instead of their sum."""

    def add(buffers, node, nr, g):
        from reference.autograd.engine import _num_outputs

        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _num_outputs(node)
        if buf[nr] is None or which == "last":
            buf[nr] = g

    return add


def _expand_first_slice(ctx, g):
    """Expand's gradient taken from the first copy only, instead of summed over all copies."""
    shape = ctx._input_meta[0][0]
    lead = g.ndim - len(shape)
    index = (0,) * lead + tuple(slice(0, 1) if n == 1 else slice(None) for n in shape)
    return g[index]


def _norm_wrong_axis(ctx, g):
    a, r = _saved(ctx)
    return g.reshape(ctx.kept).T * a / r.T


def _permute_not_inverted(ctx, g):
    return g.transpose(np.argsort(ctx.inverse))


def _mv_outer_swapped(ctx, g):
    m, v = _saved(ctx)
    return v.reshape((-1, 1)) * g.reshape((1, -1)), m.T @ g


def _mean_wrong_count(ctx, g):
    """Divides by the size of the kept dims instead of the reduced ones."""
    kept_size = int(np.prod(ctx.kept))
    return g.reshape(ctx.kept) / kept_size


def _pow_tensor_base_off(ctx, g):
    a, b, r = _saved(ctx)
    return g * b * a**b, g * r * np.log(a)


def _pow_tensor_no_log(ctx, g):
    a, b, r = _saved(ctx)
    return g * b * a ** (b - 1), g * r


def _a(ctx):
    return _saved(ctx)[0]


def _b(ctx):
    return _saved(ctx)[1]


def _with_row_ties(shape):
    """Rows whose maximum is attained twice (at columns 0 and 2)."""

    def make(rng):
        x = rng.standard_normal(shape)
        top = x.max(axis=-1, keepdims=True) + 1.0
        x[..., 0:1], x[..., 2:3] = top, top
        return (x,)

    return make


def _tied_pairs(rng):
    """Two arrays equal at half of their elements (ties of maximum)."""
    x, y = rng.standard_normal(8), rng.standard_normal(8)
    y[::2] = x[::2]
    return x, y


def _mask_of(ctx):
    return np.asarray(ctx.saved_tensors[0])


def _max_ties_not_shared(ctx, g):
    a, out = ctx.saved_tensors
    return g * (a == out)


def _var_biased(ctx, g):
    """The variance's gradient with the biased count (n instead of n - 1)."""
    a = ctx.saved_tensors[0]
    count = int(np.prod([a.shape[i] for i in ctx.axes]))
    mean = a.mean(axis=ctx.axes, keepdims=True)
    return g.reshape(ctx.kept) * 2 * (a - mean) / count


def _solve_untransposed(ctx, g):
    """X = A^-1 B with gB = A^-1 gX (A^-T forgotten); left=True, matrix B only."""
    a, x = ctx.saved_tensors
    gb = np.linalg.solve(a, g)
    return -(gb @ x.swapaxes(-1, -2)), gb


def _det_untransposed(ctx, g):
    """d det / dA = det A^-T, with the transpose forgotten."""
    a, d = ctx.saved_tensors
    return np.asarray(g)[..., None, None] * np.asarray(d)[..., None, None] * np.linalg.inv(a)


def _cumsum_not_reversed(ctx, g):
    return np.cumsum(g, axis=ctx.axis)


# fn(ns, *tensors): written with methods and operators so one callable serves both engines
MUTANTS: list[Mutant] = [
    # -- sign flips
    Mutant("add_other_sign", "sign", (PW, "Add", "backward"), lambda ctx, g: (g, -g),
           lambda ns, x, y: (x + y).tanh(), normal((3, 4), (4,))),
    Mutant("sub_other_sign", "sign", (PW, "Sub", "backward"), lambda ctx, g: (g, g),
           lambda ns, x, y: (x - y).tanh(), normal((3, 4), (3, 4))),
    Mutant("rsub_sign", "sign", (PW, "Rsub", "backward"), lambda ctx, g: (g,),
           lambda ns, x: (2 - x).exp(), normal((5,))),
    Mutant("neg_identity", "sign", (PW, "Neg", "backward"), lambda ctx, g: g,
           lambda ns, x: (-x).exp(), normal((2, 3))),
    Mutant("div_other_sign", "sign", (PW, "Div", "backward"), lambda ctx, g: (g / _b(ctx), g * _a(ctx) / _b(ctx) ** 2),
           lambda ns, x, y: x / y, lambda rng: (rng.standard_normal((3, 3)), rng.uniform(0.5, 2, (3, 3)))),
    Mutant("reciprocal_sign", "sign", (PW, "Reciprocal", "backward"), lambda ctx, g: g * _a(ctx) ** 2,
           lambda ns, x: x.reciprocal(), positive((4,))),
    Mutant("log_sign", "sign", (PW, "Log", "backward"), lambda ctx, g: -g / _a(ctx),
           lambda ns, x: x.log(), positive((2, 3))),
    Mutant("tanh_plus_square", "sign", (PW, "Tanh", "backward"), lambda ctx, g: g * (1 + _a(ctx) ** 2),
           lambda ns, x: x.tanh(), normal((6,))),
    Mutant("norm_sign", "sign", (RED, "VectorNorm", "backward"),
           lambda ctx, g: -g.reshape(ctx.kept) * _a(ctx) / _b(ctx), lambda ns, x: x.norm(), normal((5,))),
    # -- missing terms
    Mutant("mul_missing_other_term", "missing-term", (PW, "Mul", "backward"), lambda ctx, g: (g * _b(ctx), None),
           lambda ns, x: (x * x.exp()).sum(), normal((4,))),
    Mutant("div_missing_other_term", "missing-term", (PW, "Div", "backward"), lambda ctx, g: (g / _b(ctx), None),
           lambda ns, x: x / x.exp(), normal((4,))),
    Mutant("tanh_missing_square", "missing-term", (PW, "Tanh", "backward"), lambda ctx, g: g * (1 - _a(ctx)),
           lambda ns, x: x.tanh(), normal((6,))),
    Mutant("pow_tensor_missing_log", "missing-term", (PW, "PowTensor", "backward"), _pow_tensor_no_log,
           lambda ns, x, y: x**y, lambda rng: (rng.uniform(0.5, 2, (3,)), rng.standard_normal((3,)))),
    Mutant("rpow_missing_log", "missing-term", (PW, "RPow", "backward"), lambda ctx, g: g * _b(ctx),
           lambda ns, x: 3.0**x, normal((4,))),
    Mutant("div_other_missing_square", "missing-term", (PW, "Div", "backward"),
           lambda ctx, g: (g / _b(ctx), -g * _a(ctx) / _b(ctx)),
           lambda ns, x, y: x / y, lambda rng: (rng.standard_normal((3,)), rng.uniform(0.5, 2, (3,)))),
    Mutant("norm_missing_division", "missing-term", (RED, "VectorNorm", "backward"),
           lambda ctx, g: g.reshape(ctx.kept) * _a(ctx), lambda ns, x: x.norm(dim=-1), normal((3, 4))),
    # -- operands swapped, exponents off by one
    Mutant("mul_operands_swapped", "formula", (PW, "Mul", "backward"), lambda ctx, g: (g * _a(ctx), g * _b(ctx)),
           lambda ns, x, y: x * y, normal((3, 4), (3, 4))),
    Mutant("div_numerator_multiplied", "formula", (PW, "Div", "backward"),
           lambda ctx, g: (g * _b(ctx), -g * _a(ctx) / _b(ctx) ** 2),
           lambda ns, x, y: x / y, lambda rng: (rng.standard_normal((4,)), rng.uniform(0.5, 2, (4,)))),
    Mutant("pow_exponent_off_by_one", "formula", (PW, "PowScalar", "backward"),
           lambda ctx, g: g * ctx.exponent * _a(ctx) ** ctx.exponent, lambda ns, x: x**3, positive((5,))),
    Mutant("pow_missing_exponent_factor", "formula", (PW, "PowScalar", "backward"),
           lambda ctx, g: g * _a(ctx) ** (ctx.exponent - 1), lambda ns, x: x**2.5, positive((5,))),
    Mutant("pow_tensor_base_off_by_one", "formula", (PW, "PowTensor", "backward"), _pow_tensor_base_off,
           lambda ns, x, y: x**y, lambda rng: (rng.uniform(0.5, 2, (3,)), rng.standard_normal((3,)))),
    Mutant("log_reciprocal_squared", "formula", (PW, "Log", "backward"), lambda ctx, g: g / _a(ctx) ** 2,
           lambda ns, x: x.log().sum(), positive((4,))),
    Mutant("dot_operands_swapped", "formula", (LIN, "Dot", "backward"), lambda ctx, g: (g * _a(ctx), g * _b(ctx)),
           lambda ns, x, y: x @ y, normal((5,), (5,))),
    # -- transposes dropped (square matrices, so shapes still fit)
    Mutant("mm_left_transpose_dropped", "transpose", (LIN, "Mm", "backward"),
           lambda ctx, g: (g @ _b(ctx), _a(ctx).T @ g), lambda ns, x, w: x @ w, normal((4, 4), (4, 4))),
    Mutant("mm_right_transpose_dropped", "transpose", (LIN, "Mm", "backward"),
           lambda ctx, g: (g @ _b(ctx).T, _a(ctx) @ g), lambda ns, x, w: x @ w, normal((4, 4), (4, 4))),
    Mutant("mm_product_order_swapped", "transpose", (LIN, "Mm", "backward"),
           lambda ctx, g: (_b(ctx).T @ g, g @ _a(ctx).T), lambda ns, x, w: (x @ w).tanh(), normal((3, 3), (3, 3))),
    Mutant("bmm_right_transpose_dropped", "transpose", (LIN, "Mm", "backward"),
           lambda ctx, g: (g @ _b(ctx).swapaxes(-1, -2), _a(ctx) @ g),
           lambda ns, x, w: x @ w, normal((2, 3, 3), (2, 3, 3))),
    Mutant("mv_outer_product_swapped", "transpose", (LIN, "Mv", "backward"), _mv_outer_swapped,
           lambda ns, m, v: m @ v, normal((4, 4), (4,))),
    Mutant("mv_vector_grad_untransposed", "transpose", (LIN, "Mv", "backward"),
           lambda ctx, g: (g.reshape((-1, 1)) * _b(ctx).reshape((1, -1)), _a(ctx) @ g),
           lambda ns, m, v: m @ v, normal((4, 4), (4,))),
    Mutant("transpose_backward_dropped", "transpose", (SHP, "Transpose", "backward"), lambda ctx, g: g,
           lambda ns, x: (x.transpose(0, 1) * x).sum(0), normal((3, 3))),
    Mutant("permute_not_inverted", "transpose", (SHP, "Permute", "backward"), _permute_not_inverted,
           lambda ns, x: x.permute(1, 2, 0).tanh(), normal((3, 3, 3))),
    Mutant("reshape_wrong_order", "transpose", (SHP, "View", "backward"),
           lambda ctx, g: np.reshape(g, ctx.in_shape, order="F"), lambda ns, x: x.reshape(3, 4), normal((4, 3))),
    # -- wrong reductions (broadcasting undone wrongly; off-by-one axes)
    Mutant("broadcast_mean_not_sum", "reduction", (ENGINE, "", "to_input"), _unbroadcast_with(_mean_over),
           lambda ns, x, y: x * y, normal((3, 1), (1, 4))),
    Mutant("broadcast_first_slice_not_sum", "reduction", (ENGINE, "", "to_input"),
           _unbroadcast_with(_first_slice_of_leading),
           lambda ns, x, y: (x + y).exp(), normal((4,), (3, 4))),
    Mutant("broadcast_wrong_axis", "axis", (ENGINE, "", "to_input"), _unbroadcast_with(_neighbouring_axis),
           lambda ns, x, y: x * y, normal((4, 1), (4, 4))),
    Mutant("expand_first_copy_only", "reduction", (SHP, "Expand", "backward"), _expand_first_slice,
           lambda ns, x: x.expand(3, 4).tanh(), normal((1, 4))),
    Mutant("sum_wrong_axis", "axis", (RED, "Sum", "backward"), lambda ctx, g: g.reshape(ctx.kept[::-1]),
           lambda ns, x: x.sum(1).exp(), normal((4, 4))),
    Mutant("norm_wrong_axis", "axis", (RED, "VectorNorm", "backward"), _norm_wrong_axis,
           lambda ns, x: x.norm(dim=0, keepdim=True), normal((4, 4))),
    Mutant("mean_as_sum", "reduction", (RED, "Mean", "backward"), lambda ctx, g: g.reshape(ctx.kept),
           lambda ns, x: x.mean(-1), normal((3, 5))),
    Mutant("mean_count_of_wrong_axis", "axis", (RED, "Mean", "backward"), _mean_wrong_count,
           lambda ns, x: x.mean(1), normal((3, 5))),
    # -- gradients of a reused value not accumulated (engine bugs)
    Mutant("reuse_keeps_first_gradient", "accumulation", (ENGINE, "", "_add"), _buffer_keeping("first"),
           lambda ns, x: (x * x.tanh()).sum(-1), normal((3, 4))),
    Mutant("reuse_keeps_last_gradient", "accumulation", (ENGINE, "", "_add"), _buffer_keeping("last"),
           lambda ns, x, y: (x * y + x.exp()) * y, normal((4,), (4,))),
    # -- factors of two
    Mutant("add_factor_two", "factor", (PW, "Add", "backward"), lambda ctx, g: (2 * g, g),
           lambda ns, x, y: (x + y).exp(), normal((3,), (3,))),
    Mutant("add_alpha_ignored", "factor", (PW, "Add", "backward"), lambda ctx, g: (g, g),
           lambda ns, x, y: x.add(y, alpha=2.5), normal((3,), (3,))),
    Mutant("sum_factor_two", "factor", (RED, "Sum", "backward"), lambda ctx, g: 2 * g.reshape(ctx.kept),
           lambda ns, x: x.sum(0).tanh(), normal((3, 2))),
    Mutant("mm_factor_two", "factor", (LIN, "Mm", "backward"),
           lambda ctx, g: (2 * g @ _b(ctx).swapaxes(-1, -2), _a(ctx).swapaxes(-1, -2) @ g),
           lambda ns, x, w: x @ w, normal((3, 4), (4, 2))),
    Mutant("exp_factor_two", "factor", (PW, "Exp", "backward"), lambda ctx, g: 2 * g * _a(ctx),
           lambda ns, x: x.exp().sum(), normal((4,))),
    # -- tiny relative errors, which fixed tolerances (rtol=1e-3, atol=1e-5) miss
    Mutant("exp_rel_1e-3", "tiny", (PW, "Exp", "backward"), _scaled(_exp_rule, 1 + 1e-3),
           lambda ns, x: x.exp(), normal((5,))),
    Mutant("exp_rel_1e-5", "tiny", (PW, "Exp", "backward"), _scaled(_exp_rule, 1 + 1e-5),
           lambda ns, x: x.exp(), normal((5,))),
    Mutant("exp_rel_1e-7", "tiny", (PW, "Exp", "backward"), _scaled(_exp_rule, 1 + 1e-7),
           lambda ns, x: x.exp(), normal((5,))),
    Mutant("tanh_rel_1e-4", "tiny", (PW, "Tanh", "backward"),
           _scaled(lambda ctx, g: g * (1 - _a(ctx) ** 2), 1 - 1e-4), lambda ns, x: x.tanh(), normal((5,))),
    Mutant("log_rel_1e-5", "tiny", (PW, "Log", "backward"), _scaled(lambda ctx, g: g / _a(ctx), 1 + 1e-5),
           lambda ns, x: x.log(), positive((5,))),
    Mutant("mm_rel_1e-5", "tiny", (LIN, "Mm", "backward"),
           _scaled(lambda ctx, g: (g @ _b(ctx).swapaxes(-1, -2), _a(ctx).swapaxes(-1, -2) @ g), 1 + 1e-5),
           lambda ns, x, w: x @ w, normal((3, 4), (4, 3))),
    Mutant("norm_rel_1e-6", "tiny", (RED, "VectorNorm", "backward"),
           _scaled(lambda ctx, g: g.reshape(ctx.kept) * _a(ctx) / _b(ctx), 1 + 1e-6),
           lambda ns, x: x.norm(), normal((6,))),
    Mutant("mean_count_plus_1e-4", "tiny", (RED, "Mean", "backward"),
           lambda ctx, g: g.reshape(ctx.kept) / (ctx.count * (1 + 1e-4)), lambda ns, x: x.mean(), normal((4, 4))),
    # -- ops beyond the arithmetic core (skipped where the engine lacks them)
    Mutant("sigmoid_missing_one_minus", "missing-term", (PW, "Sigmoid", "backward"), lambda ctx, g: g * _a(ctx),
           lambda ns, x: x.sigmoid(), normal((6,))),
    Mutant("relu_mask_inverted", "formula", (PW, "Relu", "backward"), lambda ctx, g: g * (_a(ctx) <= 0),
           lambda ns, x: x.relu(), normal((8,))),
    Mutant("sqrt_missing_half", "factor", (PW, "Sqrt", "backward"), lambda ctx, g: g / _a(ctx),
           lambda ns, x: x.sqrt(), positive((5,))),
    Mutant("sin_derivative_sign", "sign", (PW, "Sin", "backward"), lambda ctx, g: -g * np.cos(_a(ctx)),
           lambda ns, x: x.sin(), normal((5,))),
    Mutant("abs_sign_dropped", "sign", (PW, "Abs", "backward"), lambda ctx, g: g,
           lambda ns, x: x.abs(), normal((8,))),
    Mutant("clamp_passes_outside", "formula", (PW, "ClampScalar", "backward"), lambda ctx, g: g,
           lambda ns, x: x.clamp(-0.5, 0.5), normal((8,))),
    Mutant("softmax_missing_sum_term", "missing-term", (RED, "Softmax", "backward"), lambda ctx, g: _a(ctx) * g,
           lambda ns, x: x.softmax(-1), normal((3, 4))),
    Mutant("log_softmax_missing_exp", "missing-term", (RED, "LogSoftmax", "backward"),
           lambda ctx, g: g - g.sum(axis=ctx.axis, keepdims=True), lambda ns, x: x.log_softmax(-1), normal((3, 4))),
    Mutant("logsumexp_unshifted", "formula", (RED, "Logsumexp", "backward"),
           lambda ctx, g: g.reshape(ctx.kept) * np.exp(_a(ctx)), lambda ns, x: x.logsumexp(-1), normal((3, 4))),
    Mutant("var_biased_count", "axis", (RED, "Var", "backward"), _var_biased,
           lambda ns, x: x.var(-1), normal((3, 5))),
    Mutant("cumsum_not_reversed", "axis", (RED, "Cumsum", "backward"), _cumsum_not_reversed,
           lambda ns, x: x.cumsum(-1), normal((2, 5))),
    Mutant("amax_ties_not_shared", "ties", (RED, "Amax", "backward"),
           lambda ctx, g: g.reshape(ctx.kept) * _mask_of(ctx), lambda ns, x: x.amax(-1), _with_row_ties((3, 5))),
    Mutant("max_ties_not_shared", "ties", (RED, "Extreme", "backward"), _max_ties_not_shared,
           lambda ns, x: x.max(), _with_row_ties((1, 6))),
    Mutant("maximum_ties_both_full", "ties", (PW, "Maximum", "backward"),
           lambda ctx, g: (g * (_a(ctx) >= _b(ctx)), g * (_b(ctx) >= _a(ctx))),
           lambda ns, x, y: ns.maximum(x, y), _tied_pairs),
    Mutant("inv_sign", "sign", ("reference.ops.solvers", "LinalgInv", "backward"),
           lambda ctx, g: _a(ctx).swapaxes(-1, -2) @ (g @ _a(ctx).swapaxes(-1, -2)),
           lambda ns, a: ns.linalg.inv(a), lambda rng: (rng.standard_normal((3, 3)) + 3 * np.eye(3),)),
    Mutant("solve_transpose_dropped", "transpose", ("reference.ops.solvers", "LinalgSolve", "backward"),
           _solve_untransposed, lambda ns, a, b: ns.linalg.solve(a, b),
           lambda rng: (rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 2)))),
    Mutant("det_transpose_dropped", "transpose", ("reference.ops.solvers", "LinalgDet", "backward"),
           _det_untransposed, lambda ns, a: ns.linalg.det(a), normal((3, 3))),
]  # fmt: skip
