"""gradcheck-suite: check an autograd engine against torch.autograd and finite differences.

See README.md for the tour and ARCHITECTURE.md for how a case flows through the system.
"""

__version__ = "0.1.0"

_API = ("GradcheckError", "GradcheckResult", "check", "check_module", "gradcheck", "gradgradcheck")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """``gradcheck_suite.gradcheck`` and friends, imported on first use (keeps the CLI's start fast)."""
    if name in _API:
        from gradcheck_suite import api

        return getattr(api, name)
    raise AttributeError(f"module 'gradcheck_suite' has no attribute {name!r}")
