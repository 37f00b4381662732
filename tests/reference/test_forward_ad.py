"""Dual tensors (reference.autograd.forward_ad) behave like torch's."""

from __future__ import annotations

import pytest

X = [1.0, 2.0, 3.0]
T = [1.0, 0.0, -0.5]


def _fwad(ns):
    return ns.autograd.forward_ad


def _attempt(action):
    try:
        return action()
    except (RuntimeError, ValueError, TypeError, AttributeError) as exc:
        return [type(exc).__name__, str(exc)]


def test_make_dual_errors(both):
    def program(ns):
        fwad = _fwad(ns)
        x, t = ns.tensor(X), ns.tensor(T)
        out = [_attempt(lambda: fwad.make_dual(x, t))]
        with fwad.dual_level():
            out += [
                _attempt(lambda: fwad.make_dual(x, ns.ones(2))),
                _attempt(lambda: fwad.make_dual(ns.tensor([1, 2]), ns.tensor([1, 2]))),
                _attempt(lambda: fwad.make_dual(x, ns.tensor([1, 2, 3]))),
                _attempt(lambda: fwad.make_dual(x, 1.0)),
                _attempt(lambda: fwad.enter_dual_level()),
            ]
        out.append(_attempt(lambda: fwad.exit_dual_level()))
        return out

    want = both(program)
    assert want[0][1] == (
        "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
    )
    assert want[2][1] == "Expected primal to be floating point or complex, but got: torch.int64"


def test_unpack_dual_and_tangent_printing(both):
    def program(ns):
        fwad = _fwad(ns)
        x, t = ns.tensor(X), ns.tensor(T)
        with fwad.dual_level():
            d = fwad.make_dual(x, t)
            scalar = fwad.make_dual(ns.tensor(2.0), ns.tensor(1.0))
            wide = fwad.make_dual(x, t.double())
            primal, tangent = fwad.unpack_dual(d)
            plain = fwad.unpack_dual(x)
            y = (d * 2).sin()
            inside = [repr(d), repr(scalar), repr(wide), repr(y), primal, tangent, plain.tangent]
            flags = [primal is x, tangent is t, type(fwad.unpack_dual(d)).__name__]
            requires = fwad.make_dual(ns.ones(3, requires_grad=True), t).requires_grad
        after = fwad.unpack_dual(y)
        return [inside, flags, requires, after.tangent, repr(y)]

    both(program)


IN_PLACE = {
    "plain times dual": lambda ns, x, d: x.clone().mul_(d),
    "dual plus number": lambda ns, x, d: d.clone().add_(1),
    "zero_": lambda ns, x, d: d.clone().zero_(),
    "copy plain into dual": lambda ns, x, d: d.clone().copy_(x),
    "copy dual into plain": lambda ns, x, d: x.clone().copy_(d),
    "exp_": lambda ns, x, d: d.clone().exp_(),
    "fill_ dual": lambda ns, x, d: x.clone().fill_(ns.autograd.forward_ad.make_dual(ns.tensor(2.0), ns.tensor(3.0))),
}


@pytest.mark.parametrize("case", sorted(IN_PLACE))
def test_in_place_ops_on_dual_tensors(both, case):
    def program(ns):
        fwad = _fwad(ns)
        x = ns.tensor(X)
        with fwad.dual_level():
            d = fwad.make_dual(x.clone(), ns.tensor(T))
            out = IN_PLACE[case](ns, x, d)
            primal, tangent = fwad.unpack_dual(out)
            return [primal, tangent]

    both(program)
