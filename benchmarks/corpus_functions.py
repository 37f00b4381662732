"""The functions of the false-alarm corpus (benchmarks/corpus.py lists them with their inputs).

Each is correct by construction. Most use tensor methods and operators only, so one
callable runs on reference tensors and on torch tensors; those taking ``ns`` first need
the module (``ns.linalg.solve``).
"""

from __future__ import annotations


def issue_example(x, w):
    return (x @ w).tanh().sum(-1).exp()


def weighted_exp(x, w):
    return (x.exp() * w).sum()


def exp_sum(x):
    return x.exp().sum(-1)


def high_power(x):
    return (x**12).sum(0)


def scaled_tanh_1e8(x):
    return (x * 1e-8).tanh() * 1e8


def scaled_tanh_1e30(x):
    return (x * 1e-30).tanh() * 1e30


def tiny_quadratic(x):
    return ((x * 1e30) ** 2).sum()


def tiny_log(x):
    return x.log()


def tiny_reciprocal_mix(x, y):
    return (x * y).reciprocal().sum(0)


def tanh_saturated(x, y):
    return (x.tanh() * y).sum(-1)


def sigmoid_manual(x):
    return ((-x).exp() + 1).reciprocal()


def softplus_manual(x):
    return (x.exp() + 1).log()


def logistic_loss(x, w):
    return ((-(x @ w)).exp() + 1).log().mean()


def softmax_manual(x):
    e = x.exp()
    return e / e.sum(-1, keepdim=True)


def logsumexp_naive(x):
    return x.exp().sum(-1).log()


def cross_entropy_manual(x, y):
    logp = x - x.exp().sum(-1, keepdim=True).log()
    return -(logp * y).sum(-1).mean()


def log_of_difference(x, y):
    return (x - y).log()


def exp_difference(x, y):
    return x.exp() - y.exp()


def expm1_over_x(x):
    return (x.exp() - 1) / x


def variance_naive(x):
    return (x * x).mean(-1) - x.mean(-1) ** 2


def norm_of_difference(x, y):
    return (x - y).norm()


def polynomial_expanded(x):
    """(x - 1)**7 written out: enormous cancellation near x = 1."""
    return x**7 - 7 * x**6 + 21 * x**5 - 35 * x**4 + 35 * x**3 - 21 * x**2 + 7 * x - 1


def inverse_2x2(a, b, c, d):
    """The (0, 0) entry of the inverse of near-singular 2 x 2 matrices [[a, b], [c, d]]."""
    return d / (a * d - b * c)


def cramer_solve(a, b, c, d, e, f):
    """x of [[a, b], [c, d]] [x, y] = [e, f] by Cramer's rule, near-singular systems."""
    return (e * d - b * f) / (a * d - b * c)


def newton_schulz(a, x0):
    """Six Newton-Schulz steps X <- 2X - X A X towards the inverse of a badly conditioned A."""
    x = x0
    for _ in range(6):
        x = 2 * x - x @ a @ x
    return (x * x).sum()


def matrix_power(a):
    y = a
    for _ in range(9):
        y = y @ a
    return y.sum()


def quadratic_form_difference(x, a, b):
    return (x @ a * x).sum(-1) - (x @ b * x).sum(-1)


def long_tanh_chain(x):
    for _ in range(60):
        x = (x * 1.3 + 0.1).tanh()
    return x


def long_mixed_chain(x, a):
    y = x
    for _ in range(50):
        y = (y * a).tanh() + y * 0.5 - (y * 0.1).exp() * 0.01
    return y.sum(-1)


def deep_mlp(x, w1, w2, w3, w4, w5, w6):
    for w in (w1, w2, w3, w4, w5, w6):
        x = (x @ w).tanh()
    return x.sum()


def recurrent(h, w, u, x):
    for _ in range(20):
        h = (h @ w + x @ u).tanh()
    return h


def rayleigh_power_iteration(a, v):
    for _ in range(30):
        v = a @ v
        v = v / v.norm()
    return v @ (a @ v)


def compound_interest(r):
    return (r / 1e6 + 1) ** 1e6


def rosenbrock_large(x, y):
    return (100 * (y - x * x) ** 2 + (1 - x) ** 2).sum()


def gaussian_nll_tiny_sigma(x, mu, s):
    return (((x - mu) / s) ** 2 / 2 + s.log()).sum()


def normalize(x):
    return x / x.norm(dim=-1, keepdim=True)


def batched_bilinear(x, a, y):
    return (x.unsqueeze(-2) @ a @ y.unsqueeze(-1)).sum()


def permuted_products(x, w):
    return (x.permute(2, 0, 1) @ w).transpose(0, 1).reshape(-1).exp().sum()


def product_of_many(x):
    return x.log().sum(-1).exp()


def mean_of_huge(x, y):
    return (x * y).mean() / 1e20


# -- functions on ops beyond the arithmetic core (skipped where the engine lacks them) -----


def sigmoid_far(x):
    return x.sigmoid()


def softmax_large(x):
    return x.softmax(-1)


def log_softmax_large(x):
    return x.log_softmax(-1)


def logsumexp_large(x):
    return x.logsumexp(-1)


def sqrt_tiny(x):
    return x.sqrt()


def log1p_tiny(x):
    return x.log1p() * 1e10


def expm1_tiny(x):
    return x.expm1() / 1e-10


def sin_large_argument(x):
    return x.sin()


def erf_saturated(x, y):
    return x.erf() * y


def std_near_constant(x):
    return x.std(-1)


def var_large_offset(x):
    return x.var(-1)


def cumprod_long(x):
    return x.cumprod(-1)


def prod_many(x):
    return x.prod(-1)


def solve_near_singular(ns, a, b):
    return ns.linalg.solve(a, b)


def inv_near_singular(ns, a):
    return ns.linalg.inv(a)


def det_near_singular(ns, a):
    return ns.linalg.det(a)


def layer_norm_tiny_variance(ns, x, w):
    return ns.nn.functional.layer_norm(x, (x.shape[-1],), weight=w)


def cross_entropy_large_logits(ns, x):
    target = ns.tensor([0, 2, 1, 4])
    return ns.nn.functional.cross_entropy(x, target)


def bce_with_logits_large(ns, x, y):
    return ns.nn.functional.binary_cross_entropy_with_logits(x, y)


def silu_far(ns, x):
    return ns.nn.functional.silu(x)


def einsum_bilinear_large(ns, x, a, y):
    return ns.einsum("bi,bij,bj->b", x, a, y)


def conv2d_large(ns, x, w):
    return ns.nn.functional.conv2d(x, w).tanh().sum()
