"""gradcheck-suite: check an autograd engine against torch.autograd and finite differences.

See README.md for the tour and ARCHITECTURE.md for how a case flows through the system.
"""

__version__ = "0.1.0"
