"""Checking a user's own torch code (custom autograd.Functions, modules, functions of tensors):
the torch side of ``gradcheck_suite.gradcheck``, ``gradgradcheck`` and ``check_module``."""
