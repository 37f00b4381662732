"""``reference.special``: torch.special's functions (their ops live in reference/ops/pointwise/)."""

from __future__ import annotations

from reference.ops.pointwise.activation import erf
from reference.ops.pointwise.activation import sigmoid as expit
from reference.ops.pointwise.exp_log import exp2, expm1, log1p
from reference.ops.pointwise.piecewise import round
from reference.ops.pointwise.special import (
    digamma,
    erfc,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    lgamma,
    log_ndtr,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
)
from reference.ops.pointwise.special_elementary import entr, logit, sinc, xlog1py, xlogy

gammaln, psi = lgamma, digamma


def multigammaln(input, p):
    """``torch.special.multigammaln``: the multivariate log-gamma function (MvlgammaBackward0)."""
    return mvlgamma(input, p)


__all__: list[str] = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "i0e", "i1",
    "i1e", "log1p", "log_ndtr", "logit", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc",
    "xlog1py", "xlogy",
]  # fmt: skip
