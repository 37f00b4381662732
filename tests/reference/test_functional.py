"""reference.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against torch's."""

from __future__ import annotations

import pytest

A = [0.5, -1.0, 2.0]
B = [[1.0, 2.0], [0.5, -0.25]]


def _inputs(ns, requires_grad=False):
    return ns.tensor(A, requires_grad=requires_grad), ns.tensor(B, requires_grad=requires_grad)


def single_out(x):
    return (x * x).exp() * x


def scalar(x):
    return (x * x * x).sum() + x.sin().sum()


def two_in_scalar(x, w):
    return (x * x).sum() * w.sum() + (w * w * w).sum()


def two_in_two_out(x, w):
    return x * w.sum(), (w * w).tanh()


def unused_second(x, w):
    return x * x


CASES = {
    "jacobian single": lambda fn, a, b: fn.jacobian(single_out, a),
    "jacobian tuple in": lambda fn, a, b: fn.jacobian(two_in_scalar, (a, b)),
    "jacobian tuple in out": lambda fn, a, b: fn.jacobian(two_in_two_out, (a, b)),
    "jacobian unused input": lambda fn, a, b: fn.jacobian(unused_second, (a, b)),
    "jacobian 1-tuple": lambda fn, a, b: fn.jacobian(single_out, (a,)),
    "hessian single": lambda fn, a, b: fn.hessian(scalar, a),
    "hessian tuple": lambda fn, a, b: fn.hessian(two_in_scalar, (a, b)),
    "vjp single": lambda fn, a, b: fn.vjp(single_out, a, a * 0 + 1),
    "vjp scalar no v": lambda fn, a, b: fn.vjp(scalar, a),
    "vjp tuple": lambda fn, a, b: fn.vjp(two_in_two_out, (a, b), (a * 0 + 1, b * 2)),
    "jvp single": lambda fn, a, b: fn.jvp(single_out, a, a * 0 + 1),
    "jvp tuple": lambda fn, a, b: fn.jvp(two_in_two_out, (a, b), (a * 0 + 1, b * 2)),
    "hvp single": lambda fn, a, b: fn.hvp(scalar, a, a * 0 + 1),
    "hvp tuple": lambda fn, a, b: fn.hvp(two_in_scalar, (a, b), (a * 0 + 1, b * 2)),
    "vhp single": lambda fn, a, b: fn.vhp(scalar, a, a * 0 + 1),
    "vhp tuple": lambda fn, a, b: fn.vhp(two_in_scalar, (a, b), (a * 0 + 1, b * 2)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_functional_values_and_structure(both, case):
    def program(ns):
        a, b = _inputs(ns)
        return CASES[case](ns.autograd.functional, a, b)

    both(program, rtol=1e-5)


@pytest.mark.parametrize("case", ["jacobian tuple in", "vjp tuple", "jvp tuple", "hvp single", "hessian single"])
def test_functional_create_graph_keeps_the_callers_graph(both, case):
    def program(ns):
        a, b = _inputs(ns, requires_grad=True)
        out = CASES[case](_CreateGraph(ns.autograd.functional), a, b)
        flat = _flatten(out)
        total = sum((t * t).sum() for t in flat if t.requires_grad)
        grads = ns.autograd.grad(total, (a, b), allow_unused=True)
        # The results' own grad_fn names come from how each library assembles them (torch: stack
        # and view), so values, flags and the gradients through them are compared.
        return [[(t.detach(), t.requires_grad) for t in flat], list(grads)]

    both(program, rtol=1e-5)


class _CreateGraph:
    """The functional module with create_graph=True on every call."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        fn = getattr(self.module, name)
        return lambda *args, **kwargs: fn(*args, create_graph=True, **kwargs)


def _flatten(value):
    if isinstance(value, tuple):
        return [t for v in value for t in _flatten(v)]
    return [value]


def test_results_are_detached_without_create_graph(both):
    def program(ns):
        a, _ = _inputs(ns, requires_grad=True)
        out, grad = ns.autograd.functional.vjp(scalar, a)
        jac = ns.autograd.functional.jacobian(single_out, a)
        return [out, grad, jac, a.grad]

    both(program, rtol=1e-5)


ERRORS = {
    "inputs not tensors": lambda fn, a, b: fn.jacobian(single_out, [a]),
    "tuple with a number": lambda fn, a, b: fn.vjp(two_in_scalar, (a, 2.0)),
    "output not tensor": lambda fn, a, b: fn.jacobian(lambda x: 3.0, a),
    "vjp v required": lambda fn, a, b: fn.vjp(single_out, a),
    "jvp v required": lambda fn, a, b: fn.jvp(single_out, a),
    "v wrong size": lambda fn, a, b: fn.vjp(single_out, a, b),
    "v wrong length": lambda fn, a, b: fn.jvp(two_in_two_out, (a, b), (a,)),
    "v tuple for single": lambda fn, a, b: fn.vjp(single_out, a, (a, a)),
    "entry wrong size": lambda fn, a, b: fn.vhp(two_in_scalar, (a, b), (a, a)),
    "hessian non-scalar": lambda fn, a, b: fn.hessian(single_out, a),
    "hessian tuple output": lambda fn, a, b: fn.hessian(lambda x: (x.sum(), x.sum()), a),
    "hvp non-scalar": lambda fn, a, b: fn.hvp(single_out, a, a),
    "vhp tuple output": lambda fn, a, b: fn.vhp(lambda x: (x.sum(),), a, a),
    "strict independent": lambda fn, a, b: fn.jacobian(unused_second, (a, b), strict=True),
    "strict constant output": lambda fn, a, b: fn.vjp(lambda x: x.detach() * 2, a, a, strict=True),
    "bad strategy": lambda fn, a, b: fn.jacobian(single_out, a, strategy="sideways"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_functional_errors_like_torch(both, case):
    def program(ns):
        a, b = _inputs(ns)
        return ERRORS[case](ns.autograd.functional, a, b)

    want = both(program)
    assert "raised" in want


def test_functional_messages_are_pinned(both):
    def v_required(ns):
        ns.autograd.functional.vjp(single_out, ns.tensor(A))

    assert both(v_required)["message"] == (
        "The vector v can only be None if the user-provided function returns a single Tensor with a single element."
    )
