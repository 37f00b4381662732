"""The ``gradcheck`` pytest fixture: check your own torch code in one line of your own tests.

    def test_my_softplus(gradcheck):
        x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
        gradcheck(lambda x: MySoftplus.apply(x, 2.0), (x,))

``gradcheck(fn, inputs, **kwargs)`` is ``gradcheck_suite.gradcheck`` (same keyword arguments,
same verdicts); ``gradcheck.module(module, *inputs)`` is ``check_module``, and
``gradcheck.gradgrad(fn, inputs)`` is ``gradgradcheck``. A failure fails the test with the
verdict's explanation (no traceback into the checker) and adds the replay script to the
test's report, under "gradcheck replay script". Each returns the ``GradcheckResult``.
Provided by the package's pytest plugin (pytest_plugin.py), so no conftest is needed.
"""

from __future__ import annotations

from typing import Any

import pytest


class GradcheckFixture:
    """What the fixture hands a test: callables that fail the test on a failing check."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request

    def __call__(self, fn: Any, inputs: Any, **kwargs: Any) -> Any:
        import gradcheck_suite

        return self._judge(gradcheck_suite.gradcheck(fn, inputs, **self._full(kwargs)))

    def module(self, module: Any, *inputs: Any, **kwargs: Any) -> Any:
        import gradcheck_suite

        return self._judge(gradcheck_suite.check_module(module, *inputs, **self._full(kwargs)))

    def gradgrad(self, fn: Any, inputs: Any, grad_outputs: Any = None, **kwargs: Any) -> Any:
        import gradcheck_suite

        return self._judge(gradcheck_suite.gradgradcheck(fn, inputs, grad_outputs, **self._full(kwargs)))

    @staticmethod
    def _full(kwargs: dict) -> dict:
        return {**kwargs, "raise_exception": False, "full_result": True}

    def _judge(self, result: Any) -> Any:
        if not result.ok:
            if result.script:
                self.request.node.add_report_section("call", "gradcheck replay script", result.script)
            pytest.fail(result.message(), pytrace=False)
        return result


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> GradcheckFixture:
    """``gradcheck(fn, inputs, **kwargs)``: gradcheck_suite.gradcheck that fails the test with
    the verdict's explanation and the replay script; ``.module(...)``, ``.gradgrad(...)`` too."""
    return GradcheckFixture(request)
