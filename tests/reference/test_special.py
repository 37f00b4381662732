"""Special functions and the pointwise ops added with them (rounding, remainders, inverse
hyperbolic functions, logaddexp, hypot, lerp, addcmul, addcdiv, nan_to_num): node names,
values, gradients and second derivatives against torch, including torch's values at poles,
kinks and jumps; the NumPy kernels' float64 accuracy against torch over their domains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from reference.ops.pointwise import special_kernels as kernels

NAN = float("nan")
NAN_TIES = [[1.0, 2.0, 3.0, NAN, NAN, 0.0], [1.0, 3.0, 2.0, 1.0, NAN, -0.0]]  # ties, nan on either side
# name: (fn(ns, *tensors), inputs, node name). Inputs include torch's edge values.
CASES = {
    "lgamma": (lambda ns, x: ns.lgamma(x), [[0.5, 1.0, 2.0, 3.7, 15.2, -0.5, -2.5, 0.0]], "LgammaBackward0"),
    "digamma": (lambda ns, x: x.digamma(), [[0.5, 1.0, 1.4616, 3.7, 15.2, -0.5, 0.0]], "DigammaBackward0"),
    "polygamma1": (lambda ns, x: ns.polygamma(1, x), [[0.5, 1.0, 2.0, 3.7, 15.2, -0.5, 0.0]], "PolygammaBackward0"),
    "polygamma2": (lambda ns, x: x.polygamma(2), [[0.5, 1.0, 2.0, 3.7, 15.2, -0.5]], "PolygammaBackward0"),
    "erfinv": (lambda ns, x: ns.erfinv(x), [[0.0, 0.3, -0.7, 0.95, 0.999, 1.0, -1.0]], "ErfinvBackward0"),
    "erfc": (lambda ns, x: ns.erfc(x), [[0.0, 0.3, -0.7, 2.5, 7.0, -3.0]], "ErfcBackward0"),
    "erfcx": (lambda ns, x: ns.special.erfcx(x), [[0.0, 0.3, -0.7, 2.5, 7.0, -3.0, 30.0]], "SpecialErfcxBackward0"),
    "ndtr": (lambda ns, x: ns.special.ndtr(x), [[0.0, 0.3, -0.7, 2.5, -3.0]], "MulBackward1"),
    "ndtri": (lambda ns, x: ns.special.ndtri(x), [[0.5, 0.3, 0.01, 0.99, 1e-10, 0.0, 1.0]], "SpecialNdtriBackward0"),
    "log_ndtr": (lambda ns, x: ns.special.log_ndtr(x), [[0.0, 0.3, -0.7, 2.5, -3.0, 10.0]], "SpecialLogNdtrBackward0"),
    "i0": (lambda ns, x: ns.i0(x), [[0.0, 0.3, -0.7, 2.5, -3.0, 35.0]], "I0Backward0"),
    "i0e": (lambda ns, x: ns.special.i0e(x), [[0.0, 0.3, -0.7, 2.5, -3.0, 35.0]], "SpecialI0EBackward0"),
    "i1": (lambda ns, x: ns.special.i1(x), [[0.0, 0.3, -0.7, 2.5, -3.0, 35.0]], "SpecialI1Backward0"),
    "i1e": (lambda ns, x: ns.special.i1e(x), [[0.0, 0.3, -0.7, 2.5, -3.0, 35.0]], "SpecialI1EBackward0"),
    "sinc": (lambda ns, x: ns.sinc(x), [[0.0, 0.3, -0.7, 1.0, 2.5, -3.0]], "SincBackward0"),
    "logit": (lambda ns, x: ns.logit(x), [[0.0, 0.3, 0.7, 1.0, -0.1, 1.2]], "LogitBackward0"),
    "logit_eps": (lambda ns, x: ns.logit(x, eps=0.1), [[0.0, 0.1, 0.3, 0.9, 0.95, 1.0, -0.1]], "LogitBackward0"),
    "logit_eps_quarter": (lambda ns, x: x.logit(0.25), [[0.25, 0.75, 0.5, 0.1, 0.8]], "LogitBackward0"),
    "entr": (lambda ns, x: ns.special.entr(x), [[0.0, 0.3, 1.0, 2.5, -1.0]], "SpecialEntrBackward0"),
    "xlogy": (
        lambda ns, x, y: ns.xlogy(x, y),
        [[0.0, 0.0, 0.0, 1.0, 0.0, 2.5, -1.0], [0.0, 2.0, -1.0, 0.0, 1.0, 0.3, 3.0]],
        "XlogyBackward0",
    ),
    "xlogy_number_x": (lambda ns, y: ns.xlogy(2.0, y), [[0.0, 2.0, 0.3]], "XlogyBackward1"),
    "xlogy_number_y": (lambda ns, x: ns.xlogy(x, 3.0), [[0.0, 2.0, -0.3]], "XlogyBackward2"),
    "xlog1py": (
        lambda ns, x, y: ns.special.xlog1py(x, y),
        [[0.0, 0.0, 0.0, 1.0, 2.5], [-1.0, 2.0, -2.0, -1.0, 0.3]],
        "SpecialXlog1PyBackward0",
    ),
    "logaddexp": (
        lambda ns, x, y: ns.logaddexp(x, y),
        [[1.0, 0.3, -5.0, 100.0], [1.0, 2.0, 3.0, -100.0]],
        "LogaddexpBackward0",
    ),
    "logaddexp2": (
        lambda ns, x, y: x.logaddexp2(y),
        [[1.0, 0.3, -5.0, 100.0], [1.0, 2.0, 3.0, -100.0]],
        "Logaddexp2Backward0",
    ),
    "hypot": (lambda ns, x, y: ns.hypot(x, y), [[0.0, 3.0, 0.0, -2.0], [0.0, 4.0, 2.0, 0.5]], "HypotBackward0"),
    "trunc": (lambda ns, x: ns.trunc(x), [[1.5, -1.5, 2.0, -0.3]], "TruncBackward0"),
    "fix": (lambda ns, x: x.fix(), [[1.5, -1.5, 2.0, -0.3]], "TruncBackward0"),
    "ceil": (lambda ns, x: x.ceil(), [[1.5, -1.5, 2.0, -0.3]], "CeilBackward0"),
    "frac": (lambda ns, x: ns.frac(x), [[1.5, -1.5, 2.0, -0.3]], "FracBackward0"),
    "fmod": (lambda ns, x: ns.fmod(x, 0.7), [[1.4, -1.4, 0.3, -2.0]], "FmodBackward0"),
    "fmod_tensor": (
        lambda ns, x, y: ns.fmod(x, y),
        [[1.4, -1.4, 0.3, 2.0, -2.9], [0.7, 0.7, 0.7, 0.0, 1.3]],
        "FmodBackward1",
    ),
    "remainder": (lambda ns, x: x % -0.7, [[1.4, -1.4, 0.3, -2.0]], "RemainderBackward0"),
    "remainder_tensor": (
        lambda ns, x, y: ns.remainder(x, y),
        [[1.4, -1.4, 0.3, -0.3, 2.0, -2.9], [0.7, 0.7, 0.7, 0.7, 0.0, 1.3]],
        "RemainderBackward1",
    ),
    "copysign": (
        lambda ns, x, y: ns.copysign(x, y),
        [[0.0, -0.0, 1.0, -1.0, 2.0], [1.0, 1.0, -0.0, 0.0, -2.0]],
        "CopysignBackward0",
    ),
    "copysign_number": (lambda ns, x: ns.copysign(x, -1.0), [[0.0, -0.0, 1.0, -1.0]], "CopysignBackward1"),
    "exp2": (lambda ns, x: ns.exp2(x), [[0.0, 1.5, -3.0]], "Exp2Backward0"),
    "log10": (lambda ns, x: ns.log10(x), [[0.0, 1.5, 300.0]], "Log10Backward0"),
    "asinh": (lambda ns, x: ns.asinh(x), [[0.0, 1.5, -3.0]], "AsinhBackward0"),
    "acosh": (lambda ns, x: x.acosh(), [[1.0, 1.5, 3.0]], "AcoshBackward0"),
    "atanh": (lambda ns, x: ns.arctanh(x), [[0.0, 0.5, -1.0, 1.0]], "AtanhBackward0"),
    "deg2rad": (lambda ns, x: ns.deg2rad(x), [[0.0, 90.0, -33.0]], "Deg2RadBackward0"),
    "rad2deg": (lambda ns, x: x.rad2deg(), [[0.0, 1.5, -3.0]], "Rad2DegBackward0"),
    "ldexp": (lambda ns, x, e: ns.ldexp(x, e), [[1.0, 2.0, -0.5], [1.5, -2.0, 0.0]], "LdexpBackward0"),
    "mvlgamma": (lambda ns, x: ns.mvlgamma(x, 3), [[1.5, 4.0, 2.2]], "MvlgammaBackward0"),
    "multigammaln": (lambda ns, x: ns.special.multigammaln(x, 2), [[1.5, 4.0]], "MvlgammaBackward0"),
    "lerp_number": (lambda ns, a, b: ns.lerp(a, b, 0.7), [[1.0, 2.0], [3.0, -1.0]], "LerpBackward0"),
    "lerp_tensor": (
        lambda ns, a, b, w: a.lerp(b, w),
        [[1.0, 2.0, 0.1], [3.0, -1.0, 7.0], [0.3, 0.7, -2.0]],
        "LerpBackward1",
    ),
    "addcmul": (
        lambda ns, a, b, c: ns.addcmul(a, b, c, value=0.5),
        [[1.0, 2.0], [3.0, -1.0], [0.3, 0.7]],
        "AddcmulBackward0",
    ),
    "addcdiv": (
        lambda ns, a, b, c: a.addcdiv(b, c, value=-2),
        [[1.0, 2.0], [3.0, -1.0], [0.3, 0.0]],
        "AddcdivBackward0",
    ),
    "fmax": (lambda ns, a, b: ns.fmax(a, b), NAN_TIES, "FmaxBackward0"),
    "fmin": (lambda ns, a, b: a.fmin(b), NAN_TIES, "FminBackward0"),
    "nan_to_num": (
        lambda ns, x: ns.nan_to_num(x),
        [[1.0, float("nan"), float("inf"), -float("inf")]],
        "NanToNumBackward0",
    ),
    "nan_to_num_values": (
        lambda ns, x: x.nan_to_num(nan=1.0, posinf=2.0, neginf=-3.0),
        [[1.0, float("nan"), float("inf"), -float("inf")]],
        "NanToNumBackward0",
    ),
}
# second derivatives torch computes by a different formula, compared only where both are finite
# and away from cancellation: sinc's at 0 (both nan, though sinc''(0) = -pi^2/3)
RTOL = {"float64": 1e-12, "float32": 2e-6}


def _run(ns, fn, values, dtype):
    xs = [ns.tensor(v, dtype=getattr(ns, dtype), requires_grad=True) for v in values]
    y = fn(ns, *xs)
    grads = ns.autograd.grad(y.sum(), xs, create_graph=True)
    live = [g.sum() for g in grads if g.requires_grad]
    second = ns.autograd.grad(sum(live), xs, allow_unused=True) if live else [None] * len(xs)
    to_np = lambda t: None if t is None else np.asarray(t.detach().numpy(), dtype=np.float64)  # noqa: E731
    return y.grad_fn.name(), to_np(y), [to_np(g) for g in grads], [to_np(h) for h in second]


def _assert_close(ours, theirs, rtol, what):
    """Equal nan and inf positions; finite values within rtol, or rtol times the largest value
    (normwise: torch's float32 kernels cancel near zeros, e.g. digamma's at 1.4616)."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: nan positions")
    finite = np.isfinite(theirs)
    np.testing.assert_array_equal(ours[~finite], theirs[~finite], err_msg=f"{what}: inf values")
    scale = np.abs(theirs[finite]).max(initial=1.0) if rtol > 1e-10 else 1e-3
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=rtol, atol=rtol * scale, err_msg=what)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_gradients_and_node_names_match_torch(name, dtype):
    fn, values, node = CASES[name]
    t_node, t_y, t_grads, t_second = _run(torch, fn, values, dtype)
    r_node, r_y, r_grads, r_second = _run(reference, fn, values, dtype)
    assert t_node == node  # the name is torch's: a check on this table
    assert r_node == node
    rtol = RTOL[dtype]
    _assert_close(r_y, t_y, rtol, f"{name} value")
    for i, (ours, theirs) in enumerate(zip(r_grads, t_grads)):
        _assert_close(ours, theirs, rtol, f"{name} gradient {i}")
    if dtype == "float64":
        for i, (ours, theirs) in enumerate(zip(r_second, t_second)):
            if ours is not None and theirs is not None:
                both = np.isfinite(ours) & np.isfinite(theirs)
                np.testing.assert_allclose(ours[both], theirs[both], rtol=1e-8, err_msg=f"{name} second {i}")


def test_the_reference_namespaces_expose_torchs_names():
    for name in ("erfcx", "ndtr", "ndtri", "log_ndtr", "i0e", "i1", "i1e", "entr", "xlog1py", "gammaln", "psi",
                 "expit", "logit", "sinc", "xlogy", "polygamma", "erfinv"):  # fmt: skip
        assert hasattr(torch.special, name) and hasattr(reference.special, name), name
    x = reference.tensor([0.5], requires_grad=True)
    assert reference.special.gammaln(x).grad_fn.name() == "LgammaBackward0"
    assert reference.special.expit(x).grad_fn.name() == "SigmoidBackward0"
    y = reference.tensor([0.5])
    y.lgamma_()  # in-place variants are bound where the out-of-place method exists
    assert y.item() == pytest.approx(float(torch.lgamma(torch.tensor(0.5))))


def test_ndtr_records_torchs_composite_chain():
    names = []
    for ns in (torch, reference):
        node = ns.special.ndtr(ns.tensor([0.5], requires_grad=True)).grad_fn
        chain = []
        while node is not None and node.name() not in ("torch::autograd::AccumulateGrad", "AccumulateGrad"):
            chain.append(node.name())
            node = node.next_functions[0][0]
        names.append(chain)
    assert names[0] == names[1] == ["MulBackward1", "AddBackward1", "ErfBackward0", "MulBackward1"]


KERNEL_DOMAINS = {
    "lgamma": (
        kernels.lgamma_array,
        torch.lgamma,
        [(1e-3, 30.0), (0.9, 1.1), (1.9, 2.1), (-0.95, -0.05), (-4.95, -4.05)],
    ),
    "digamma": (kernels.digamma_array, torch.digamma, [(1e-3, 30.0), (-0.95, -0.05), (-4.95, -4.05)]),
    "polygamma2": (lambda a: kernels.polygamma_array(2, a), lambda t: torch.polygamma(2, t), [(1e-2, 50.0)]),
    "erfinv": (kernels.erfinv_array, torch.erfinv, [(-0.999999, 0.999999)]),
    "erfc": (kernels.erfc_array, torch.erfc, [(-6.0, 26.0)]),
    "erfcx": (kernels.erfcx_array, torch.special.erfcx, [(-20.0, 60.0)]),
    "ndtri": (kernels.ndtri_array, torch.special.ndtri, [(1e-12, 1.0 - 1e-12)]),
    "i0": (lambda a: kernels.bessel_array(0, a, False), torch.i0, [(-60.0, 60.0)]),
    "i1e": (lambda a: kernels.bessel_array(1, a, True), torch.special.i1e, [(-60.0, 60.0)]),
}


@pytest.mark.parametrize("name", sorted(KERNEL_DOMAINS))
def test_float64_kernels_agree_with_torch_to_a_few_ulp(name):
    ours, theirs, intervals = KERNEL_DOMAINS[name]
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(lo, hi, 2000) for lo, hi in intervals])
    expected = theirs(torch.from_numpy(x)).numpy()
    got = ours(x)
    scale = np.maximum(np.abs(expected), 1e-300)
    # near zeros of lgamma and digamma both sides lose digits to cancellation: absolute there
    error = np.abs(got - expected) / np.maximum(scale, 0.1 if name in ("lgamma", "digamma") else 0)
    assert error.max() < 5e-14, f"{name}: max relative error {error.max():.2e} at {x[np.argmax(error)]!r}"


def test_kernels_keep_shape_and_dtype_for_0d_and_float32():
    for kernel in (kernels.lgamma_array, kernels.erfinv_array, kernels.erfc_array):
        assert kernel(np.float32(0.25)).shape == () and kernel(np.float32(0.25)).dtype == np.float32
        assert kernel(np.zeros((2, 0))).shape == (2, 0)


# forward mode on the edge values (the catalogue checks it on its smooth domains)
TANGENT_CASES = ["xlogy", "xlogy_number_x", "xlogy_number_y", "xlog1py", "logit_eps", "copysign", "i1", "i1e",
                 "fmod_tensor", "remainder_tensor", "lerp_tensor", "addcdiv", "nan_to_num", "hypot", "fmax",
                 "fmin"]  # fmt: skip


def _forward_mode(ns, fn, values, tangents):
    fwad = ns.autograd.forward_ad
    with fwad.dual_level():
        xs = [fwad.make_dual(ns.tensor(v, dtype=ns.float64), ns.tensor(t, dtype=ns.float64))
              for v, t in zip(values, tangents)]  # fmt: skip
        out = fwad.unpack_dual(fn(ns, *xs)).tangent
    return np.asarray(out.numpy(), dtype=np.float64)


@pytest.mark.parametrize("name", TANGENT_CASES)
def test_forward_mode_matches_torch(name):
    fn, values, _ = CASES[name]
    rng = np.random.default_rng(3)
    tangents = [rng.choice([-1.0, 1.0, 0.5], size=len(v)).tolist() for v in values]
    ours = _forward_mode(reference, fn, values, tangents)
    theirs = _forward_mode(torch, fn, values, tangents)
    _assert_close(ours, theirs, 1e-12, f"{name} tangent")
