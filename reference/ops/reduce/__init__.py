"""The reduction family's ops, by kind; ``reference/ops/reduction.py`` lists them for the package.

- ``axes``: dims, kept shapes and the argument checks reductions share
- ``basic``: sum, mean, prod, all, any
- ``extrema``: max, min (full and along a dim), amax, amin
- ``moments``: var, std
- ``norms``: vector_norm, norm
- ``softmax``: logsumexp, softmax, log_softmax
- ``scans``: cumsum, cumprod
"""
