"""reference.autograd.Function (custom operations in user code), against torch.autograd.Function."""

from __future__ import annotations

import pytest

X = [1.0, 2.0, 3.0]


def _leaf(ns):
    return ns.tensor(X, requires_grad=True)


def _functions(ns):
    """The same user code, written once per namespace (it must subclass that namespace's Function)."""

    class Scale(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a, k, shift=0.0):
            ctx.save_for_backward(a)
            ctx.k = k
            ctx.log = [ctx.needs_input_grad, ns.is_grad_enabled()]
            return a * a * k + shift

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            ctx.log.append([ctx.needs_input_grad, ns.is_grad_enabled(), a.requires_grad])
            return 2 * a * g * ctx.k, None, None

    class SaveOutput(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out

    class Split(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            idx = ns.tensor([0, 1])
            ctx.mark_non_differentiable(idx)
            return a * 2, idx, a * 3

        @staticmethod
        def backward(ctx, g1, g2, g3):
            ctx.seen = [g1, g2, g3]
            return g1 * 2 + g3 * 3

    class NoMaterialize(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.set_materialize_grads(False)
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = [g1, g2]
            return g1 * 2 if g2 is None else g1 * 2 + g2 * 3

    class ReturnInput(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            return g * 5

    class Dirty(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            a.mul_(2)
            ctx.mark_dirty(a)
            return a

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return {f.__name__: f for f in (Scale, SaveOutput, Split, NoMaterialize, ReturnInput, Dirty)}


def _bad(ns, returns, nargs=2):
    class Bad(ns.autograd.Function):
        @staticmethod
        def forward(ctx, a, *rest):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return returns(ns, g)

    x = _leaf(ns)
    Bad.apply(x, *([2.0] * (nargs - 1))).sum().backward()
    return x.grad


def test_custom_function_forward_backward_and_ctx(both):
    def program(ns):
        Scale = _functions(ns)["Scale"]
        x = _leaf(ns)
        y = Scale.apply(x, 3.0)
        z = Scale.apply(x, k=2.0, shift=1.0)
        edges = [(type(n).__name__, i) for n, i in y.grad_fn.next_functions]
        (y.sum() + z.sum()).backward()
        return [y, z, type(y.grad_fn).__name__, y.grad_fn.name(), edges, x.grad, y.grad_fn.log]

    want = both(program)
    assert want[2] == "ScaleBackward"


def test_custom_function_second_order(both):
    def program(ns):
        Scale = _functions(ns)["Scale"]
        x = _leaf(ns)
        (g,) = ns.autograd.grad(Scale.apply(x, 3.0).sum(), x, create_graph=True)
        (gg,) = ns.autograd.grad(g.sum(), x)
        return [g, gg]

    both(program)


def test_custom_function_without_grad(both):
    def program(ns):
        Scale = _functions(ns)["Scale"]
        a = Scale.apply(ns.tensor(X), 2.0)
        with ns.no_grad():
            b = Scale.apply(_leaf(ns), 2.0)
        return [a, b]

    both(program)


def test_multiple_outputs_non_differentiable_and_materialized(both):
    def program(ns):
        fns = _functions(ns)
        x = _leaf(ns)
        a, idx, b = fns["Split"].apply(x)
        a.sum().backward()
        seen = a.grad_fn.seen
        p, _ = fns["NoMaterialize"].apply(x)
        p.sum().backward()
        return [a, idx, b, a.grad_fn is b.grad_fn, b.output_nr, seen, p.grad_fn.seen, x.grad]

    both(program)


def test_returning_an_input_gives_a_view_and_mark_dirty_rebases(both):
    def program(ns):
        fns = _functions(ns)
        x = _leaf(ns)
        y = fns["ReturnInput"].apply(x)
        same = y is x
        y.sum().backward()
        w = x * 1
        z = fns["Dirty"].apply(w)
        (z * ns.tensor([1.0, 2.0, 3.0])).sum().backward()
        return [same, y, y._base is x, y.is_leaf, z is w, w, x.grad]

    both(program)


def test_saved_output_modified_in_place(both):
    def program(ns):
        y = _functions(ns)["SaveOutput"].apply(_leaf(ns))
        y.add_(1)
        y.sum().backward()

    want = both(program)
    assert "which is output 0 of SaveOutput, is at version 1; expected version 0 instead." in want["message"]


BAD_BACKWARDS = {
    "too few": (lambda ns, g: g, 2),
    "too many": (lambda ns, g: (g, g, g), 2),
    "gradient for a number": (lambda ns, g: (g, g), 2),
    "wrong shape": (lambda ns, g: ns.ones(2), 1),
    "broadcastable shape": (lambda ns, g: ns.ones(1, 3), 1),
    "not a tensor": (lambda ns, g: 3.0, 1),
    "other dtype": (lambda ns, g: g.double(), 1),
}


@pytest.mark.parametrize("case", sorted(BAD_BACKWARDS))
def test_backward_results_are_checked_like_torch(both, case):
    returns, nargs = BAD_BACKWARDS[case]
    both(lambda ns: _bad(ns, returns, nargs))


def test_custom_function_messages_are_pinned(both):
    assert both(lambda ns: _bad(ns, *BAD_BACKWARDS["too few"]))["message"] == (
        "function BadBackward returned an incorrect number of gradients (expected 2, got 1)"
    )
    assert both(lambda ns: _bad(ns, *BAD_BACKWARDS["gradient for a number"]))["message"] == (
        "function BadBackward returned a gradient different than None at position 2, but the corresponding "
        "forward input was not a Variable"
    )
    assert both(lambda ns: _bad(ns, *BAD_BACKWARDS["wrong shape"]))["message"] == (
        "Function BadBackward returned an invalid gradient at index 0 - got [2] but expected shape compatible with [3]"
    )


def test_misuse_errors(both):
    def save_number(ns):
        class SaveNumber(ns.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(3)
                return a * 2

        SaveNumber.apply(_leaf(ns))

    def no_backward(ns):
        class NoBackward(ns.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

        NoBackward.apply(_leaf(ns)).sum().backward()

    assert both(save_number) == {
        "raised": "TypeError",
        "message": "save_for_backward can only save variables, but argument 0 is of type int",
    }
    assert both(no_backward)["raised"] == "NotImplementedError"
