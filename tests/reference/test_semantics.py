"""The reference engine's autograd semantics, each program run on torch and on reference."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import reference

X = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]]


# -- requires_grad, leaves, no_grad ------------------------------------------------------------


def test_requires_grad_propagates_and_leaves(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        c = ns.tensor(X)
        y = x * c + 1
        z = c * 2
        return [x, c, y, z, y.requires_grad, z.requires_grad, x.is_leaf, y.is_leaf]

    both(program)


def test_no_grad_context_and_decorator(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        with ns.no_grad():
            a = x * 2
            with ns.enable_grad():
                b = x * 2
            inner = ns.is_grad_enabled()

        @ns.no_grad()
        def doubled(t):
            return t * 2

        c = doubled(x)
        after = ns.is_grad_enabled()
        with ns.set_grad_enabled(False):
            d = x * 2
        return [a, b, c, d, inner, after, ns.is_grad_enabled()]

    both(program)


def test_set_grad_enabled_as_function_and_decorator(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        ns.set_grad_enabled(False)
        a = x * 2
        ns.set_grad_enabled(True)

        @ns.set_grad_enabled(False)
        def f(t):
            return t * 3

        state_after_decorating = ns.is_grad_enabled()
        return [a, f(x), state_after_decorating, x * 4]

    both(program)


def test_detach_shares_storage_and_cuts_graph(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        y = x * 2
        d = y.detach()
        return [d, d.requires_grad, d.is_leaf, d.grad_fn, (d * x).grad_fn, x.detach().is_leaf]

    both(program)


def test_detach_shares_memory_with_original():
    x = reference.tensor(X, requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.numpy(), x.detach().numpy())
    assert not d.requires_grad and d.is_leaf


def test_requires_grad_flag_errors(both):
    both(lambda ns: (ns.tensor(X, requires_grad=True) * 2).requires_grad_(False))
    both(lambda ns: (ns.tensor(X, requires_grad=True) * 2).requires_grad_(True))
    both(lambda ns: ns.tensor([1, 2], requires_grad=True))
    both(lambda ns: ns.tensor([1, 2]).requires_grad_())
    both(lambda ns: ns.tensor([1, 2]).requires_grad_(False))
    both(lambda ns: ns.tensor(X).requires_grad_())


def test_requires_grad_setter(both):
    def program(ns):
        x = ns.tensor(X)
        x.requires_grad = True
        return [x, (x * 2).requires_grad]

    both(program)


# -- backward -----------------------------------------------------------------------------------


def test_grad_accumulates_across_backward_calls(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return [first, x.grad]

    both(program)


def test_grad_accumulates_in_place_like_torch(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        (x * 2).sum().backward()
        g = x.grad
        (x * 2).sum().backward()
        return [g is x.grad, g]

    both(program)


def test_reused_tensor_gets_all_contributions(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        y = x * 2
        z = y * y + y * x + ns.exp(y) / (x * x + 1)  # a diamond through y
        z.sum().backward()
        return x.grad

    both(program)


def test_backward_with_gradient_vector_and_dtype_cast(both):
    def program(ns):
        x = ns.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * ns.tensor([2.0, -1.0, 0.5])
        y.backward(ns.tensor([0.1, 1.0, 0.0001], dtype=ns.float64))
        return x.grad

    both(program)


def test_backward_errors(both):
    both(lambda ns: (ns.tensor(X, requires_grad=True) * 2).backward())
    both(lambda ns: (ns.tensor([1.0, 2, 3], requires_grad=True) * 2).backward(ns.ones(2)))
    both(lambda ns: ns.tensor(X).sum().backward())
    both(lambda ns: ns.tensor(X).backward())


@pytest.mark.parametrize(
    "expression",
    [
        lambda x: (x * x).sum(),  # saves x: the second backward fails
        lambda x: (x + 1).sum(),  # saves nothing: the second backward works
        lambda x: (x - 1).mean(),
        lambda x: x.exp().sum(),
        lambda x: x.tanh().sum(),
        lambda x: (x / 2).sum(),
        lambda x: (x**2).sum(),
        lambda x: x.reshape(-1).sum(),
        lambda x: (x @ x.t()).sum(),
    ],
)
def test_second_backward_fails_exactly_where_torch_does(both, expression):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        y = expression(x)
        y.backward()
        y.backward()
        return x.grad

    both(program)


def test_retain_graph_allows_second_backward(both):
    def program(ns):
        x = ns.tensor(X, requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    both(program)


def test_broadcast_gradients_are_summed_back(both):
    def program(ns):
        a = ns.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
        b = ns.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        (a * b).sum().backward()
        return [a.grad, b.grad]

    result = both(program)
    assert (result[0]["values"] == 10.0).all() and (result[1]["values"] == 6.0).all()


def test_leaf_grads_keep_their_dtype_under_promotion(both):
    def program(ns):
        a = ns.tensor([1.0, 2.0], requires_grad=True)
        b = ns.tensor([3.0, 4.0], dtype=ns.float64, requires_grad=True)
        c = a * b
        c.sum().backward()
        return [c, a.grad, b.grad]

    both(program)


def test_non_leaf_grad_is_none_with_warning():
    for ns in (torch, reference):
        x = ns.tensor(X, requires_grad=True)
        y = x * 2
        y.sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert y.grad is None
        assert caught and "not a leaf Tensor" in str(caught[0].message), ns.__name__


def test_long_chain_backward_has_no_recursion_limit():
    x = reference.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_import_reference_does_not_import_torch():
    code = "import sys, reference, reference.autograd; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- graph structure ------------------------------------------------------------------------------


def _graph(t) -> str:
    def walk(node):
        if node is None:
            return "None"
        inner = ",".join(f"{walk(n)}:{i}" for n, i in node.next_functions)
        return f"{type(node).__name__}[{inner}]"

    return walk(t.grad_fn)


EXPRESSIONS = {
    "x + 2": lambda ns, x, w, b: x + 2,
    "2 + x": lambda ns, x, w, b: 2 + x,
    "x - 2": lambda ns, x, w, b: x - 2,
    "2 - x": lambda ns, x, w, b: 2 - x,
    "x * 3": lambda ns, x, w, b: x * 3,
    "x / 2": lambda ns, x, w, b: x / 2,
    "2 / x": lambda ns, x, w, b: 2 / x,
    "x ** 2": lambda ns, x, w, b: x**2,
    "x ** x": lambda ns, x, w, b: x**x,
    "2 ** x": lambda ns, x, w, b: 2**x,
    "-x": lambda ns, x, w, b: -x,
    "exp log tanh": lambda ns, x, w, b: ns.tanh(ns.log(ns.exp(x))),
    "sum()": lambda ns, x, w, b: x.sum(),
    "sum(0)": lambda ns, x, w, b: x.sum(0),
    "sum(-1, keepdim)": lambda ns, x, w, b: x.sum(-1, keepdim=True),
    "mean()": lambda ns, x, w, b: x.mean(),
    "mean(1)": lambda ns, x, w, b: x.mean(1),
    "x @ w": lambda ns, x, w, b: x @ w,
    "w.t() @ x[0]": lambda ns, x, w, b: w.t() @ x.sum(0),
    "x.sum(0) @ w": lambda ns, x, w, b: x.sum(0) @ w,
    "dot": lambda ns, x, w, b: x.sum(0) @ x.sum(0),
    "b @ w (3-d @ 2-d)": lambda ns, x, w, b: b @ w,
    "b @ b.mT (batched)": lambda ns, x, w, b: b @ b.transpose(1, 2),
    "x @ b (2-d @ 3-d)": lambda ns, x, w, b: x.t() @ b,
    "reshape": lambda ns, x, w, b: x.reshape(3, 2),
    "T.reshape (copy)": lambda ns, x, w, b: x.T.reshape(-1),
    "T.reshape (alias)": lambda ns, x, w, b: x.T.reshape(3, 1, 2),
    "transpose": lambda ns, x, w, b: x.transpose(0, 1),
    "x.T": lambda ns, x, w, b: x.T,
    "x.t()": lambda ns, x, w, b: x.t(),
    "norm": lambda ns, x, w, b: x.norm(),
    "double": lambda ns, x, w, b: x.double(),
    "unsqueeze squeeze": lambda ns, x, w, b: x.unsqueeze(0).squeeze(0),
    "expand": lambda ns, x, w, b: x.expand(4, 2, 3),
    "f32 * f64 const": lambda ns, x, w, b: x * ns.ones(2, 3, dtype=ns.float64),
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_grad_fn_names_and_structure_match_torch(name):
    expression = EXPRESSIONS[name]
    graphs = []
    for ns in (torch, reference):
        x = ns.tensor(X, requires_grad=True)
        w = ns.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        b = ns.ones(4, 2, 3, requires_grad=True)
        graphs.append(_graph(expression(ns, x, w, b)).replace("torch::autograd::", ""))
    assert graphs[1] == graphs[0]


def test_next_functions_point_at_accumulate_grad_of_the_leaf():
    x = reference.tensor(X, requires_grad=True)
    y = x * 2
    (acc, nr), (const, const_nr) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x and nr == 0
    assert const is None and const_nr == 0
    assert (x + 1).grad_fn.next_functions[0][0] is acc  # one accumulator per leaf while alive
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")


# -- type promotion -----------------------------------------------------------------------------------


PROMOTIONS = {
    "f32 + f64": lambda ns: ns.ones(2) + ns.ones(2, dtype=ns.float64),
    "f32 + 0-d f64": lambda ns: ns.ones(2) + ns.tensor(1.0, dtype=ns.float64),
    "0-d f64 + 0-d f32": lambda ns: ns.tensor(1.0, dtype=ns.float64) + ns.tensor(1.0),
    "int * 2.5": lambda ns: ns.tensor([1, 2]) * 2.5,
    "int / int": lambda ns: ns.tensor([1, 2]) / ns.tensor([2, 2]),
    "int + 0-d f32": lambda ns: ns.tensor([1, 2]) + ns.tensor(1.0),
    "int + 0-d int": lambda ns: ns.tensor([1, 2]) + ns.tensor(3),
    "0-d int + f32": lambda ns: ns.tensor(3) + ns.ones(2),
    "bool * 2": lambda ns: ns.tensor([True, False]) * 2,
    "bool * 2.0": lambda ns: ns.tensor([True, False]) * 2.0,
    "int ** 2": lambda ns: ns.tensor([1, 2]) ** 2,
    "int ** 0.5": lambda ns: ns.tensor([1, 4]) ** 0.5,
    "int ** -1": lambda ns: ns.tensor([1, 2]) ** -1,
    "2 ** int": lambda ns: 2 ** ns.tensor([1, 2]),
    "2.0 ** int": lambda ns: 2.0 ** ns.tensor([1, 2]),
    "int.exp()": lambda ns: ns.tensor([1, 2]).exp(),
    "int.sum()": lambda ns: ns.tensor([1, 2]).sum(),
    "bool.sum()": lambda ns: ns.tensor([True, True]).sum(),
    "int.mean()": lambda ns: ns.tensor([1, 2]).mean(),
    "f32 * numpy f64 scalar": lambda ns: ns.ones(2) * np.float64(3.0),
    "-bool": lambda ns: -ns.tensor([True]),
    "tensor(1.5)": lambda ns: ns.tensor(1.5),
    "tensor([1, 2.0])": lambda ns: ns.tensor([1, 2.0]),
    "tensor(True)": lambda ns: ns.tensor(True),
    "eq across dtypes": lambda ns: ns.ones(2).eq(ns.ones(2, dtype=ns.float64)),
    "mm mixed dtypes": lambda ns: ns.ones(2, 2) @ ns.ones(2, 2, dtype=ns.float64),
}


@pytest.mark.parametrize("name", list(PROMOTIONS))
def test_type_promotion_matches_torch(both, name):
    both(PROMOTIONS[name])


# -- shapes and errors of ops ----------------------------------------------------------------------------


SHAPE_ERRORS = {
    "view of a transpose": lambda ns: ns.ones(2, 3).t().view(6),
    "reshape bad size": lambda ns: ns.ones(2, 3).reshape(4),
    "two -1": lambda ns: ns.ones(2, 3).reshape(-1, -1),
    "sum dim out of range": lambda ns: ns.ones(2, 3).sum(2),
    "sum repeated dim": lambda ns: ns.ones(2, 3).sum((0, 0)),
    "t of 3-d": lambda ns: ns.ones(2, 3, 4).t(),
    "mm shapes": lambda ns: ns.ones(2, 3) @ ns.ones(2, 3),
    "mm of a vector": lambda ns: ns.ones(2, 3).mm(ns.ones(3)),
    "dot sizes": lambda ns: ns.ones(3) @ ns.ones(4),
    "matmul 0-d": lambda ns: ns.ones(()) @ ns.ones(3),
    "transpose out of range": lambda ns: ns.ones(2, 3).transpose(0, 2),
    "expand shrink": lambda ns: ns.ones(2, 3).expand(4, 3),
    "item of many": lambda ns: ns.ones(3).item(),
    "bool of many": lambda ns: bool(ns.ones(3)),
    "len of 0-d": lambda ns: len(ns.ones(())),
    "numpy of requires_grad": lambda ns: ns.ones(2, requires_grad=True).numpy(),
}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_error_messages_match_torch(both, name):
    result = both(SHAPE_ERRORS[name])
    assert "raised" in result, "the program was meant to raise on torch"


def test_scalar_conversions(both):
    both(lambda ns: [ns.tensor(2.5).item(), ns.tensor([3]).item(), float(ns.tensor(1.5)), int(ns.tensor(7))])
    both(lambda ns: [ns.ones(2, 3).shape, ns.ones(2, 3).size(), ns.ones(2, 3).size(1), ns.ones(2, 3).dim()])
    both(lambda ns: [ns.ones(2, 3).numel(), len(ns.ones(4, 2)), ns.ones(2).dtype, ns.float32, ns.float64])
