"""grad_fn.register_prehook / register_hook and autograd.grad(is_grads_batched=True), against torch."""

from __future__ import annotations

import pytest

X = [1.0, 2.0, 3.0]


def _leaf(ns, values=X):
    return ns.tensor(values, requires_grad=True)


def _log(log, *entry):
    log.append([e if not isinstance(e, tuple) else [None if t is None else t.clone() for t in e] for e in entry])


# -- node hooks ------------------------------------------------------------------------------


def test_order_tensor_hook_retain_grad_prehooks_then_post_hook(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 4
        log = []
        y.grad_fn.register_prehook(lambda go: _log(log, "pre1", go) or (go[0] * 2,))
        y.grad_fn.register_prehook(lambda go: _log(log, "pre2", go))
        y.grad_fn.register_hook(lambda gi, go: _log(log, "post", gi, go))
        y.register_hook(lambda g: g + 1)
        y.retain_grad()
        y.sum().backward()
        return [log, x.grad, y.grad]

    both(program)


def test_post_hook_replaces_grad_inputs_and_sees_none_for_constants(both):
    def program(ns):
        x = _leaf(ns)
        m = x * ns.tensor(2.0)
        log = []
        m.grad_fn.register_hook(lambda gi, go: _log(log, "post", gi, go) or (gi[0] * 10, gi[1]))
        m.sum().backward()
        return [log, x.grad]

    both(program)


def test_accumulate_grad_node_hooks_see_empty_grad_inputs(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 2
        acc = y.grad_fn.next_functions[0][0]
        log = []
        acc.register_prehook(lambda go: _log(log, "pre", go) or (go[0] * 3,))
        acc.register_hook(lambda gi, go: _log(log, "post", gi, go))
        y.sum().backward()
        (x * 5).sum().backward()  # the node outlives the first graph: its hooks run again
        return [log, x.grad]

    both(program)


def test_a_prehook_that_drops_the_gradient_reaches_later_hooks_as_none(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 4
        acc = y.grad_fn.next_functions[0][0]
        log = []
        y.grad_fn.register_prehook(lambda go: (None,))
        acc.register_prehook(lambda go: _log(log, "acc pre", go))
        acc.register_hook(lambda gi, go: _log(log, "acc post", gi, go))
        y.sum().backward()
        return [log, x.grad]

    both(program)


def test_autograd_grad_skips_hooks_of_nodes_it_only_captures(both):
    def program(ns):
        x = _leaf(ns)
        y = x * 3
        log = []
        y.grad_fn.register_prehook(lambda go: _log(log, "y pre", go))
        y.grad_fn.register_hook(lambda gi, go: _log(log, "y post", gi, go))
        acc = y.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: _log(log, "acc pre", go))
        z = (y * y).sum()
        first = ns.autograd.grad(z, y, retain_graph=True)
        second = ns.autograd.grad(z, x)
        return [first, second, log]

    both(program)


def test_removed_node_hooks_do_not_run(both):
    def program(ns):
        x = _leaf(ns)
        y = x.exp()
        log = []
        handle = y.grad_fn.register_prehook(lambda go: _log(log, "pre", go))
        y.grad_fn.register_hook(lambda gi, go: _log(log, "post", gi, go)).remove()
        handle.remove()
        y.sum().backward()
        return [log, x.grad]

    both(program)


def test_node_hooks_with_create_graph_see_differentiable_gradients(both):
    def program(ns):
        x = _leaf(ns)
        y = x * x
        seen = []
        y.grad_fn.register_hook(lambda gi, go: seen.append([gi[0].requires_grad, go[0].requires_grad]))
        (g,) = ns.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = ns.autograd.grad(g.sum(), x)
        return [seen, g, gg]

    both(program)


@pytest.mark.parametrize(
    "hook",
    [
        pytest.param(lambda go: (go[0], go[0]), id="count"),
        pytest.param(lambda go: 3, id="not-a-tuple"),
        pytest.param(lambda go: (5,), id="not-a-tensor"),
        pytest.param(lambda go: (go[0][:1],), id="size"),
        pytest.param(lambda go: (go[0].double(),), id="dtype"),
    ],
)
def test_bad_prehook_results_raise_torchs_errors(both, hook):
    def program(ns):
        x = _leaf(ns)
        y = x * 4
        y.grad_fn.register_prehook(hook)
        y.sum().backward()
        return x.grad

    assert "raised" in both(program)


@pytest.mark.parametrize(
    "hook",
    [
        pytest.param(lambda gi, go: (gi[0],), id="count"),
        pytest.param(lambda gi, go: (gi[0], gi[0]), id="replace-none"),
    ],
)
def test_bad_post_hook_results_raise_torchs_errors(both, hook):
    def program(ns):
        x = _leaf(ns)
        y = x * 4
        y.grad_fn.register_hook(hook)
        y.sum().backward()
        return x.grad

    assert "raised" in both(program)


# -- is_grads_batched ------------------------------------------------------------------------


def _eye(ns, n):
    return ns.tensor([[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("create_graph", [False, True])
def test_batched_cotangents_give_the_jacobian_rows(both, create_graph):
    def program(ns):
        x = _leaf(ns)
        y = x.sin() * x
        (jac,) = ns.autograd.grad(y, x, _eye(ns, 3), is_grads_batched=True, create_graph=create_graph)
        return [jac.detach(), jac.requires_grad]

    both(program)


def test_batched_grads_of_several_outputs_unused_and_materialized_inputs(both):
    def program(ns):
        x = _leaf(ns)
        u = ns.tensor(1.0, requires_grad=True)
        v = _eye(ns, 3)
        a, b = x**2, x.exp()
        unused = ns.autograd.grad(
            (a, b), (x, u), (v, 2 * v), is_grads_batched=True, allow_unused=True, retain_graph=True
        )
        zeros = ns.autograd.grad(a, (x, u), v, is_grads_batched=True, materialize_grads=True)
        scalar = ns.autograd.grad(a.sum(), x, ns.tensor([1.0, 2.0]), is_grads_batched=True)
        return [unused, zeros, scalar]

    both(program)


def test_batched_grad_frees_the_graph_without_retain_graph(both):
    def program(ns):
        x = _leaf(ns)
        y = x.exp()
        ns.autograd.grad(y, x, _eye(ns, 3), is_grads_batched=True)
        return ns.autograd.grad(y, x, ns.ones(3))

    assert "raised" in both(program)


@pytest.mark.parametrize(
    "grad_outputs",
    [
        pytest.param(lambda ns: None, id="none"),
        pytest.param(lambda ns: ns.ones(3), id="unbatched"),
        pytest.param(lambda ns: ns.ones(2, 4), id="wrong-shape"),
        pytest.param(lambda ns: (_eye(ns, 3), _eye(ns, 3)[:2]), id="batch-sizes"),
    ],
)
def test_bad_batched_grad_outputs_raise_torchs_errors(both, grad_outputs):
    def program(ns):
        x = _leaf(ns)
        outs = (x**2, x.sin())
        go = grad_outputs(ns)
        return ns.autograd.grad(outs if isinstance(go, tuple) else outs[0], x, go, is_grads_batched=True)

    assert "raised" in both(program)
