"""In-place ops, version counters, views and indexing assignment, against torch."""

from __future__ import annotations

import pytest

X = [1.0, -2.0, 3.0]
VERSION_HINT = (
    " Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
    "torch.autograd.set_detect_anomaly(True, check_nan=False)."
)


def _leaf(ns, values=X):
    return ns.tensor(values, requires_grad=True)


def _structure(y):
    return [y, y._version, [(None if n is None else type(n).__name__, i) for n, i in y.grad_fn.next_functions]]


INPLACE = {
    "add_": lambda ns, y: y.add_(1),
    "add_alpha": lambda ns, y: y.add_(ns.ones(3, requires_grad=True), alpha=2),
    "sub_": lambda ns, y: y.sub_(ns.tensor([1.0, 2.0, 3.0], requires_grad=True)),
    "mul_": lambda ns, y: y.mul_(2),
    "mul_tensor": lambda ns, y: y.mul_(ns.tensor([4.0, 5.0, 6.0], requires_grad=True)),
    "mul_self": lambda ns, y: y.mul_(y.detach()),
    "div_": lambda ns, y: y.div_(ns.tensor([4.0, 5.0, 6.0], requires_grad=True)),
    "zero_": lambda ns, y: y.zero_(),
    "fill_": lambda ns, y: y.fill_(2.0),
    "fill_tensor": lambda ns, y: y.fill_(ns.tensor(2.0, requires_grad=True)),
    "clamp_": lambda ns, y: y.clamp_(-1, 1),
    "clamp_min": lambda ns, y: y.clamp_(min=0),
    "copy_": lambda ns, y: y.copy_(ns.ones(3)),
    "copy_grad": lambda ns, y: y.copy_(ns.tensor([4.0, 5.0, 6.0], requires_grad=True)),
    "copy_broadcast": lambda ns, y: y.copy_(ns.tensor([2.0], dtype=ns.float64, requires_grad=True)),
    "neg_": lambda ns, y: y.neg_(),
    "exp_": lambda ns, y: y.exp_(),
    "sigmoid_": lambda ns, y: y.sigmoid_(),
    "tanh_": lambda ns, y: y.tanh_(),
    "relu_": lambda ns, y: y.relu_(),
    "abs_": lambda ns, y: y.abs_(),
    "square_": lambda ns, y: y.square_(),
    "pow_": lambda ns, y: y.pow_(2),
    "iadd": lambda ns, y: y.__iadd__(1),
    "isub": lambda ns, y: y.__isub__(ns.ones(3, requires_grad=True)),
    "imul": lambda ns, y: y.__imul__(3),
    "itruediv": lambda ns, y: y.__itruediv__(2),
    "ipow": lambda ns, y: y.__ipow__(3),
    "add_float64": lambda ns, y: y.add_(ns.tensor([1.5, 2.0, 1.0], dtype=ns.float64, requires_grad=True)),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_op_records_torchs_node_and_gradients(both, name):
    def program(ns):
        x = _leaf(ns)
        y = x * 1
        out = INPLACE[name](ns, y)
        others = [n.variable for n, _ in y.grad_fn.next_functions if type(n).__name__ == "AccumulateGrad"]
        (y * ns.tensor([1.0, 2.0, 3.0])).sum().backward()
        return [out is y, *_structure(y), x.grad, [o.grad for o in others]]

    both(program)


@pytest.mark.parametrize("name", ["mul_tensor", "div_", "exp_", "sigmoid_", "pow_", "fill_tensor", "copy_grad"])
def test_inplace_op_second_derivatives(both, name):
    def program(ns):
        x = _leaf(ns, [0.5, -0.25, 1.5])
        y = x * x
        INPLACE[name](ns, y)
        (g,) = ns.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = ns.autograd.grad(g.sum(), x, allow_unused=True)
        return [g, gg]

    both(program)


def test_operators_are_in_place(both):
    def program(ns):
        y = ns.tensor(X)
        ref = y
        y += 1
        y *= 2
        y -= ns.ones(3)
        y /= 4
        y **= 2
        return [y is ref, y, y._version]

    both(program)


def test_sgd_update_on_a_leaf_under_no_grad(both):
    def program(ns):
        w = _leaf(ns)
        for _ in range(2):
            (w * w).sum().backward()
            with ns.no_grad():
                w -= 0.1 * w.grad
                w.grad.zero_()
        return [w, w._version, w.grad]

    both(program)


# -- version counters --------------------------------------------------------------------------


def test_version_counter_is_shared_by_views_and_detach_not_data(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 1
        view, detached, data = y[1:], y.detach(), y.data
        view.add_(1)
        detached.mul_(2)
        data.sub_(1)
        return [y, y._version, view._version, detached._version, data._version, view._base is y, y._base]

    both(program)


def _version_error(setup):
    def program(ns):
        try:
            setup(ns).sum().backward()
        except RuntimeError as exc:
            return str(exc)
        return None

    return program


def _saved_output(ns):
    y = _leaf(ns).sigmoid()
    y.mul_(2)
    return y


def _saved_input(ns):
    y = _leaf(ns) * 1
    z = y * y
    y.add_(1)
    return z


def _saved_leaf_constant(ns):
    c = ns.tensor([4.0, 5.0, 6.0])
    z = _leaf(ns) * c
    c.add_(1)
    return z


def _saved_through_detach(ns):
    y = _leaf(ns).exp()
    y.detach().zero_()
    return y


def _saved_after_copy_slices(ns):
    y = _leaf(ns) * 1
    y[0] = 2
    z = y * y
    y[1] = 3
    return z


def _saved_view(ns):
    y = _leaf(ns) * 1
    v = y[1:]
    z = v * v
    y.zero_()
    return z


def _saved_self_of_mul_(ns):
    y = _leaf(ns) * 1
    y.mul_(y)
    return y


def _saved_copy(ns):
    y = (_leaf(ns) * 1).clone()
    w = y * y
    y.copy_(ns.ones(3))
    return w


VERSION_CASES = {
    "saved output": (_saved_output, "[torch.FloatTensor [3]], which is output 0 of Sigmoid, is at version 1; "),
    "saved input": (_saved_input, "[torch.FloatTensor [3]], which is output 0 of Add, is at version 1; "),
    "leaf constant": (_saved_leaf_constant, "[torch.FloatTensor [3]] is at version 1; expected version 0"),
    "through detach": (_saved_through_detach, "which is output 0 of Exp, is at version 1"),
    "copy slices": (_saved_after_copy_slices, "of torch::autograd::CopySlices, is at version 2; expected version 1"),
    "view": (_saved_view, "[torch.FloatTensor [2]], which is output 0 of AsStrided, is at version 1; "),
    "mul_ self": (_saved_self_of_mul_, "which is output 0 of Mul, is at version 1; expected version 0"),
    "copy_": (_saved_copy, "which is output 0 of torch::autograd::CopyBackwards, is at version 1"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(VERSION_CASES))
def test_modified_saved_tensors_fail_backward_like_torch(both, case):
    setup, expected = VERSION_CASES[case]
    message = both(_version_error(setup))
    assert message is not None and message.endswith(" instead." + VERSION_HINT)
    assert expected in message
    assert message.startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
    )


# -- errors ----------------------------------------------------------------------------------


def _raises(action):
    def program(ns):
        try:
            action(ns)
        except (RuntimeError, IndexError, TypeError) as exc:
            return [type(exc).__name__, str(exc)]
        return None

    return program


ERRORS = {
    "leaf": lambda ns: _leaf(ns).add_(1),
    "view of leaf": lambda ns: _leaf(ns)[0].add_(1),
    "setitem on leaf": lambda ns: _leaf(ns).__setitem__(0, 1.0),
    "no_grad view": lambda ns: _no_grad_view(ns).mul_(2),
    "multi-output view": lambda ns: (_leaf(ns) * 1).split(2)[0].mul_(2),
    "expanded": lambda ns: ns.ones(1).expand(3).add_(1),
    "float into int": lambda ns: ns.tensor([1, 2]).add_(1.5),
    "float tensor into int": lambda ns: ns.tensor([1, 2]).mul_(ns.tensor([1.5, 2.0])),
    "int into bool": lambda ns: ns.tensor([True]).add_(1),
    "broadcast grows": lambda ns: ns.ones(3).add_(ns.ones(2, 3)),
    "copy_ shape": lambda ns: ns.ones(2).copy_(ns.ones(3)),
    "copy_ rank": lambda ns: ns.ones(2).copy_(ns.ones(3, 2)),
    "fill_ 1-d": lambda ns: ns.ones(2).fill_(ns.ones(2)),
    "detach_ view": lambda ns: (_leaf(ns) * 1)[0].detach_(),
    "data not tensor": lambda ns: setattr(_leaf(ns), "data", 3),
    "data int on grad": lambda ns: setattr(_leaf(ns), "data", ns.tensor([1, 2])),
    "setitem out of range": lambda ns: (_leaf(ns) * 1).__setitem__(5, 1.0),
    "setitem list out of range": lambda ns: (_leaf(ns) * 1).__setitem__([0, 5], 1.0),
    "setitem shape": lambda ns: (_leaf(ns) * 1).__setitem__(slice(0, 2), ns.ones(3)),
    "setitem advanced dtype": lambda ns: (_leaf(ns) * 1).__setitem__([0], ns.ones(1, dtype=ns.float64)),
    "setitem advanced shape": lambda ns: (_leaf(ns) * 1).__setitem__([0, 1], ns.ones(3)),
}


def _no_grad_view(ns):
    y = _leaf(ns) * 1
    with ns.no_grad():
        return y[0:2]


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_inplace_errors_like_torch(both, case):
    assert both(_raises(ERRORS[case])) is not None


def test_inplace_error_messages_are_pinned(both):
    assert (
        both(_raises(ERRORS["leaf"]))[1] == "a leaf Variable that requires grad is being used in an in-place operation."
    )
    assert both(_raises(ERRORS["view of leaf"]))[1] == (
        "a view of a leaf Variable that requires grad is being used in an in-place operation."
    )
    assert (
        both(_raises(ERRORS["float into int"]))[1] == "result type Float can't be cast to the desired output type Long"
    )
    assert both(_raises(ERRORS["multi-output view"]))[1].startswith(
        "Output 0 of Split is a view and is being modified inplace."
    )
    assert both(_raises(ERRORS["detach_ view"]))[1].startswith("Can't detach views in-place. Use detach() instead.")


# -- views -----------------------------------------------------------------------------------


def test_inplace_on_a_view_rebases_the_base(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 1
        v = y[1:]
        w = y[:2]
        v.mul_(ns.tensor([2.0, 3.0], requires_grad=True))
        (y * ns.tensor([1.0, 10.0, 100.0])).sum().backward(retain_graph=True)
        first = x.grad.clone()
        (v.sum() + w.sum()).backward()
        return [
            y,
            v,
            w,
            first,
            x.grad,
            type(y.grad_fn).__name__,
            [type(n).__name__ for n, _ in y.grad_fn.next_functions],
        ]

    both(program)


def test_inplace_on_a_base_regenerates_its_views(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 1
        v = y[1:]
        before = type(v.grad_fn).__name__
        y.mul_(2)
        (v * ns.tensor([1.0, 2.0])).sum().backward()
        return [before, v, v._version, x.grad]

    both(program)


def test_view_copy_gives_a_constant_base_a_history(both):
    def program(ns):
        x = _leaf(ns, [5.0, 6.0])
        b = ns.zeros(3)
        b[1:].copy_(x * 2)
        (b * ns.tensor([1.0, 2.0, 3.0])).sum().backward()
        return [b, b.requires_grad, x.grad, [n if n is None else type(n).__name__ for n, _ in b.grad_fn.next_functions]]

    both(program)


def test_view_of_view_and_transposed_views(both):
    def program(ns):
        x = ns.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = x * 1
        t = y.t()
        t[1:, 0].mul_(10)
        inner = y[1][::2]
        inner.add_(100)
        (y * ns.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        return [y, t, x.grad]

    both(program)


# -- indexing assignment ---------------------------------------------------------------------


SETITEM = {
    "int scalar": lambda ns, y: y.__setitem__(0, 5.0),
    "slice tensor": lambda ns, y: y.__setitem__((slice(None), slice(0, 2)), ns.tensor([7.0, 8.0], requires_grad=True)),
    "row broadcast": lambda ns, y: y.__setitem__(1, ns.tensor([2.0], requires_grad=True)),
    "ellipsis": lambda ns, y: y.__setitem__((Ellipsis, 1), 0.0),
    "list": lambda ns, y: y.__setitem__([0, 1], ns.tensor([[1.0, 2.0, 3.0]], requires_grad=True)),
    "mask": lambda ns, y: y.__setitem__(y > 2, 0.0),
    "mask tensor value": lambda ns, y: y.__setitem__(y < 0, ns.tensor(9.0, requires_grad=True)),
    "leading ones": lambda ns, y: y.__setitem__((slice(None), slice(0, 2)), ns.ones((1, 2, 2), requires_grad=True)),
    "0-d value": lambda ns, y: y.__setitem__(1, ns.tensor(3.0, requires_grad=True)),
    "float64 value": lambda ns, y: y.__setitem__(1, ns.ones(3, dtype=ns.float64, requires_grad=True)),
    "mask leading ones": lambda ns, y: y.__setitem__(y > 0, ns.ones((1, 1), requires_grad=True)),
    "index tensor": lambda ns, y: y.__setitem__(
        (ns.tensor([1, 0]), ns.tensor([2, 2])), ns.tensor([4.0, 6.0], requires_grad=True)
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SETITEM))
def test_setitem_like_torch(both, case):
    def program(ns):
        x = ns.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]], requires_grad=True)
        y = x * 1
        SETITEM[case](ns, y)
        values = [n.variable for n, _ in y.grad_fn.next_functions if type(n).__name__ == "AccumulateGrad"]
        (y * ns.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        return [*_structure(y), x.grad, [v.grad for v in values]]

    both(program)


def test_setitem_without_grad_and_into_a_constant(both):
    def program(ns):
        a = ns.zeros(2, 3)
        a[0] = 1.0
        a[:, 1] = ns.tensor([5.0, 6.0])
        x = _leaf(ns, [7.0, 8.0])
        b = ns.zeros(3)
        b[[0, 2]] = x
        b.sum().backward()
        return [a, a._version, a.requires_grad, b, x.grad]

    both(program)


# -- detach_ and .data ---------------------------------------------------------------------------


def test_detach_and_data_semantics(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        y.detach_()
        z = _leaf(ns)
        z.data = ns.tensor([9.0, 8.0])  # .data may change the shape
        w = _leaf(ns)
        d = w.data
        d.add_(1)
        return [y, y.grad_fn, z, w, w._version, d.requires_grad]

    both(program)


def test_long_in_place_chain_has_no_recursion_limit():
    import reference

    x = reference.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    for _ in range(20_000):
        y.mul_(1.0)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("make", [lambda x: x.clone(), lambda x: x.flip(0), lambda x: x * 1.5])
def test_a_one_element_tensor_overwritten_in_place_backpropagates_zeros(both, make):
    """The gradient reaching the in-place write is 0-d (a NumPy scalar inside the engine)."""

    def program(ns):
        x = ns.tensor([2.0], requires_grad=True)
        t = make(x)
        t[0] = 1.5
        t.backward()
        u = make(x)
        u.fill_(3.0)
        u.backward()
        return [x.grad, t.grad_fn, u.grad_fn]

    both(program)
