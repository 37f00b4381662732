"""Tensor hooks, retain_grad, and the arguments of autograd.grad / backward, against torch."""

from __future__ import annotations

import warnings

import pytest

X = [1.0, 2.0, 3.0]


def _leaf(ns, values=X):
    return ns.tensor(values, requires_grad=True)


# -- register_hook ---------------------------------------------------------------------------


def test_leaf_hooks_run_in_order_before_accumulation(both):
    def program(ns):
        x = _leaf(ns)
        log = []
        x.register_hook(lambda g: log.append(("first", g.clone())) or g * 2)
        x.register_hook(lambda g: log.append(("second", g.clone())))
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        return [log, x.grad]

    both(program)


def test_non_leaf_hooks_replace_the_gradient_and_retain_grad_runs_last(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        return [y.grad, x.grad, y.retains_grad, x.retains_grad]

    want = both(program)
    assert want[0]["values"].tolist() == [41.0, 81.0, 121.0]


def test_removed_hooks_do_not_run(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        handle = y.register_hook(lambda g: g * 10)
        handle.remove()
        handle.remove()  # twice is harmless
        with x.register_hook(lambda g: g * 100):
            pass  # the handle removes the hook on exit
        y.sum().backward()
        return x.grad

    both(program)


def test_hooks_see_autograd_grad_and_change_what_it_returns(both):
    def program(ns):
        x = _leaf(ns)
        w = _leaf(ns, [4.0, 5.0, 6.0])
        log = []
        w.register_hook(lambda g: log.append("w"))  # w is not differentiated: its hook must not run
        x.register_hook(lambda g: g * 10)
        y = x * w
        y.register_hook(lambda g: log.append("y") or g * 2)
        (gx,) = ns.autograd.grad(y.sum(), x)
        (gy,) = ns.autograd.grad((y * 1).sum(), y)
        return [gx, gy, log, x.grad, w.grad]

    both(program)


def test_hooks_under_create_graph_are_differentiated(both):
    def program(ns):
        x = _leaf(ns)
        y = x * x
        y.register_hook(lambda g: g * x)
        (g,) = ns.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = ns.autograd.grad(g.sum(), x)
        return [g, gg]

    both(program)


def test_hook_errors(both):
    def not_requiring(ns):
        return ns.tensor([1.0]).register_hook(lambda g: g)

    def bad_size(ns):
        y = _leaf(ns) * 2
        y.register_hook(lambda g: ns.ones(2))
        y.sum().backward()

    def bad_type(ns):
        y = _leaf(ns) * 2
        y.register_hook(lambda g: 3)
        y.sum().backward()

    def bad_dtype(ns):
        x = _leaf(ns)
        x.register_hook(lambda g: g.double())
        x.sum().backward()

    assert both(not_requiring)["message"] == "cannot register a hook on a tensor that doesn't require gradient"
    assert both(bad_size)["message"] == "hook '<lambda>' has changed the size of value"
    assert both(bad_type) == {"raised": "TypeError", "message": "expected Variable, but hook returned 'int'"}
    assert both(bad_dtype)["message"] == (
        "hook '<lambda>' has changed the type of value (was torch.FloatTensor got torch.DoubleTensor)"
    )


def test_hook_survives_an_in_place_change(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        y.mul_(3)
        y.sum().backward()
        return x.grad

    both(program)


# -- retain_grad -----------------------------------------------------------------------------


def test_retain_grad_accumulates_and_reads_without_warning(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        y.retain_grad()
        y.sum().backward(retain_graph=True)
        first = y.grad
        y.sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            second = y.grad
        return [first, second, first is second, y.retains_grad]

    both(program)


def test_retain_grad_flags_and_errors(both):
    def flags(ns):
        x = _leaf(ns)
        x.retain_grad()  # no-op on a leaf
        y = x * 2
        before = y.retains_grad
        y.retain_grad()
        y.retain_grad()
        return [x.retains_grad, before, y.retains_grad]

    def no_grad_tensor(ns):
        ns.tensor(X).retain_grad()

    both(flags)
    assert both(no_grad_tensor)["message"] == "can't retain_grad on Tensor that has requires_grad=False"


def test_retain_grad_follows_in_place_changes_and_autograd_grad(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        y.retain_grad()
        y.mul_(3)  # the retained gradient is now the new y's
        (y * y).sum().backward()
        z = x * 4
        z.retain_grad()
        ns.autograd.grad((z * z).sum(), x)
        return [y.grad, y.retains_grad, z.grad]

    both(program)


def test_retains_grad_survives_detach_(both):
    def program(ns):
        y = _leaf(ns) * 2
        y.retain_grad()
        (y * 0).sum().backward()
        y.detach_()
        return [y.retains_grad, y.grad, y.requires_grad, y.is_leaf]

    both(program)


# -- autograd.grad and backward arguments -------------------------------------------------------


def _grad_call(case):
    def program(ns):
        x = _leaf(ns)
        w = _leaf(ns, [4.0, 5.0, 6.0])
        G = ns.autograd.grad
        calls = {
            "empty inputs": lambda: G((x * 2).sum(), []),
            "fewer grad_outputs": lambda: G([(x * 2).sum(), (x * 3).sum()], x, grad_outputs=[ns.tensor(1.0)]),
            "more grad_outputs": lambda: G((x * 2).sum(), x, grad_outputs=[ns.tensor(1.0), ns.tensor(5.0)]),
            "grad_outputs shape": lambda: G(x * 2, x, grad_outputs=ns.ones(2)),
            "grad_outputs float64": lambda: G(x * 2, x, grad_outputs=ns.ones(3, dtype=ns.float64)),
            "grad_outputs int": lambda: G(x * 2, x, grad_outputs=ns.ones(3, dtype=ns.int64)),
            "grad_outputs list": lambda: G(x * 2, x, grad_outputs=[1.0, 1.0, 1.0]),
            "grad_outputs number": lambda: G((x * 2).sum(), x, grad_outputs=1.0),
            "input number": lambda: G((x * 2).sum(), [1.0]),
            "input None": lambda: G((x * 2).sum(), [x, None]),
            "inputs not iterable": lambda: G((x * 2).sum(), 1.0),
            "outputs not iterable": lambda: G(1.0, x),
            "non-scalar": lambda: G(x * 2, x),
            "output without grad": lambda: G([(x * 2).sum(), ns.ones(1).sum()], x),
            "unused": lambda: G((x * 2).sum(), [x, w]),
            "allow_unused": lambda: G((x * 2).sum(), [x, w], allow_unused=True),
            "materialize": lambda: G((x * 2).sum(), [x, w], materialize_grads=True),
            "materialize conflict": lambda: G((x * 2).sum(), [x, w], materialize_grads=True, allow_unused=False),
            "input without grad": lambda: G((x * 2).sum(), [x, ns.ones(3)]),
            "duplicate inputs": lambda: G((x * w).sum(), [x, x, w]),
            "mixed None grad_outputs": lambda: G([x * 2, (x * 3).sum()], x, grad_outputs=[ns.ones(3), None]),
            "grad of output itself": lambda: G((x * 2).sum(), [(x * 2).sum()], allow_unused=True),
        }
        return calls[case]()

    return program


GRAD_CASES = [
    "empty inputs", "fewer grad_outputs", "more grad_outputs", "grad_outputs shape", "grad_outputs float64",
    "grad_outputs int", "grad_outputs list", "grad_outputs number", "input number", "input None",
    "inputs not iterable", "outputs not iterable", "non-scalar", "output without grad", "unused", "allow_unused",
    "materialize", "materialize conflict", "input without grad", "duplicate inputs", "mixed None grad_outputs",
    "grad of output itself",
]  # fmt: skip


@pytest.mark.parametrize("case", GRAD_CASES)
def test_autograd_grad_arguments_like_torch(both, case):
    both(_grad_call(case))


def test_autograd_grad_messages_are_pinned(both):
    assert both(_grad_call("empty inputs"))["message"] == "`inputs` argument to `grad()` cannot be empty."
    assert both(_grad_call("fewer grad_outputs"))["message"] == "got 2 tensors and 1 gradients"
    assert both(_grad_call("input None"))["message"] == (
        "all inputs have to be Tensors or GradientEdges, but got NoneType"
    )
    assert both(_grad_call("materialize conflict")) == {
        "raised": "ValueError",
        "message": "Expected allow_unused to be True or not passed when materialize_grads=True, "
        "but got: allow_unused=False.",
    }


def test_backward_inputs(both):
    def non_leaf(ns):
        x = _leaf(ns)
        y = x * 2
        (y * y).sum().backward(inputs=[y])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # y now retains its gradient: no warning
            return [y.grad, x.grad, y.retains_grad]

    def leaf(ns):
        x = _leaf(ns)
        w = _leaf(ns, [4.0, 5.0, 6.0])
        log = []
        x.register_hook(lambda g: log.append("x"))
        (x * w).sum().backward(inputs=w)
        (x * w).sum().backward(inputs=[w, w])
        return [w.grad, x.grad, log]

    def errors(ns):
        x = _leaf(ns)
        out = []
        for inputs in ([], [ns.ones(3)], [1.0]):
            try:
                (x * 2).sum().backward(inputs=inputs)
            except (RuntimeError, TypeError) as exc:
                out.append(str(exc))
        (x * 2).sum().backward(inputs=[_leaf(ns)])  # unused: silently nothing
        return [out, x.grad]

    both(non_leaf)
    both(leaf)
    want = both(errors)
    assert want[0][0] == "`inputs` argument to `backward()` cannot be empty."


def test_backward_argument_errors(both):
    def program(ns):
        x = _leaf(ns)
        out = []
        calls = [
            lambda: ns.autograd.backward([(x * 2).sum(), (x * 3).sum()], grad_tensors=[ns.tensor(1.0)]),
            lambda: ns.autograd.backward((x * 2).sum(), grad_tensors=2.0),
            lambda: ns.autograd.backward(2.0),
            lambda: (x * 2).backward([1.0, 1.0, 1.0]),
        ]
        for call in calls:
            try:
                call()
            except (RuntimeError, TypeError) as exc:
                out.append((type(exc).__name__, str(exc)))
        return out

    both(program)


def test_grad_runs_only_the_part_of_the_graph_it_needs(both):
    """autograd.grad(z, y) stops at y: a version error further up never surfaces."""

    def program(ns):
        x = _leaf(ns)
        a = x.sigmoid()
        b = a + 2
        c = b * 3
        a.mul_(1)  # SigmoidBackward0's saved result is now stale, but grad(c, b) does not need it
        (gb,) = ns.autograd.grad(c.sum(), b, retain_graph=True)
        try:
            ns.autograd.grad(c.sum(), x)
        except RuntimeError as exc:
            return [gb, str(exc)]
        return [gb, None]

    def chain(ns):
        x = _leaf(ns)
        y = x
        for _ in range(100_000):
            y = y * 1.0
        return ns.autograd.grad(y.sum(), x)

    want = both(program)
    assert want[1].startswith("one of the variables needed for gradient computation has been modified")
    import reference

    (g,) = chain(reference)  # no recursion in the pruning pass either
    assert g.tolist() == [1.0, 1.0, 1.0]
