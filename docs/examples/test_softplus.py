"""Checking your own torch code in your own tests, with the ``gradcheck`` fixture that the
gradcheck-suite package adds to pytest (docs/check-your-torch-code.md)."""

import torch
from softplus import softplus2


def test_softplus_gradient(gradcheck):
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    gradcheck(softplus2, (x,))


def test_softplus_in_a_module(gradcheck):
    layer = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Softplus(beta=2.0)).double()
    gradcheck.module(layer, torch.randn(4, 5, dtype=torch.float64))
