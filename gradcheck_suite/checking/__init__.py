"""Checking one case: three witnesses in, records with verdicts out.

case.py          CaseChecker: forward, vjp (torch, numerical), jvp and hvp checks of one case
estimators.py    the numerical reference: central differences / complex step, probes, narrowing
higher_order.py  witnesses for the forward-mode (JVP) and second-order (HVP) checks
noise.py         rounding noise of the case, measured on torch (for the error budget)
tolerances.py    the error budget: every formula for what counts as "agree"
compare.py       elementwise comparison against a budget (score = error / tolerance)
judge.py         element by element: smooth rules, or kink rules where one-sided differences differ
verdicts.py      the one table of verdicts and the rules that produce them
"""
