"""A user's own custom autograd.Function, as docs/check-your-torch-code.md writes it: softplus
with a beta, whose backward is 5% too steep (``STEEPER``; 1.0 is the right backward)."""

import torch
import torch.nn.functional as F  # noqa: N812 - as torch users write it

STEEPER = 1.05


class MySoftplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return F.softplus(x, beta)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(ctx.beta * x) * STEEPER, None


def softplus2(x):
    """``MySoftplus.apply(x, 2.0)``: a named function, so a replay script can import it."""
    return MySoftplus.apply(x, 2.0)
