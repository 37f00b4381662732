"""The reduction family's ops, by kind; ``reference/ops/reduction.py`` lists them for the package.

- ``axes``: dims, kept shapes and the argument checks reductions share
- ``basic``: sum, mean, prod, all, any
- ``extrema``: max, min (full and along a dim), amax, amin
- ``moments``: var, std
- ``norms``: vector_norm, norm
- ``softmax``: logsumexp, softmax, log_softmax
- ``scans``: cumsum, cumprod
- ``cumulative``: logcumsumexp; diff, trapezoid, cumulative_trapezoid (compositions)
- ``order``: sort, msort, topk, kthvalue, median, cummax, cummin, argmax, argmin
- ``selection``: the index torch's CPU kernels return at ties (sort, topk, kthvalue, median)
- ``paired``: nansum, nanmean; aminmax, var_mean, std_mean (two outputs)
"""
