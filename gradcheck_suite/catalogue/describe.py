"""Each catalogue op in words: what ``gradcheck-suite list --verbose`` prints and docs/ops.md holds.

An op's keyword arguments are a hypothesis strategy of its drawn input shapes, so the values an
adapter is called with are found the way a run finds them: ``DRAWS`` shapes-then-kwargs draws
per op through the same strategies (strategies.kwargs_for), from a seed fixed per op and with
hypothesis's source constants off (runner.without_local_constants), so the text is the same on
every run. The values listed are a sample of what runs draw, not every value a run can draw.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import warnings
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
from hypothesis import given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import is_complex
from gradcheck_suite.catalogue.spec import Domain, OpSpec
from gradcheck_suite.records import CASE_CHECKS
from gradcheck_suite.runner import STREAM_SETTINGS, without_local_constants
from gradcheck_suite.strategies import imaginary_part, kwargs_for

DRAWS = 30  # per op with kwargs: enough to meet every value of a small set, fast for the whole catalogue
MAX_VALUES = 10  # distinct values listed per kwarg before "…"
MAX_SHAPES = 5  # distinct array shapes listed per kwarg
REGENERATE = "python -m gradcheck_suite list --format markdown > docs/ops.md"
_NO_KWARGS = OpSpec.__dataclass_fields__["kwargs"].default


@dataclass(frozen=True)
class Description:
    """One op, every field already in words."""

    name: str
    family: str
    doc: str
    inputs: tuple[str, ...]
    dtypes: tuple[str, ...]
    complex: str  # how complex dtypes or outputs are drawn and checked ("" if neither)
    kwargs: tuple[tuple[str, str], ...]  # (name, the values drawn)
    kinks: str
    conventions: tuple[str, ...]
    checks: tuple[str, ...]
    reference: str


def describe_all(specs: Iterable[OpSpec], use_cache: bool = True) -> list[Description]:
    """The descriptions of ``specs``; the drawn kwargs come from the project cache when the
    sources they depend on have not changed (drawing the whole catalogue takes seconds)."""
    specs = list(specs)
    cache = DrawnCache.load() if use_cache else DrawnCache()
    out = []
    for spec in specs:
        if spec.name not in cache.kwargs:
            cache.kwargs[spec.name] = kwargs_text(spec)
            cache.changed = True
        out.append(describe(spec, cache.kwargs[spec.name]))
    if use_cache and cache.changed:
        cache.save()
    return out


def describe(spec: OpSpec, kwargs: tuple[tuple[str, str], ...] | None = None) -> Description:
    """``kwargs``: the summary of its drawn kwargs if known (kwargs_text), else drawn now."""
    return Description(
        name=spec.name, family=spec.family, doc=spec.doc, inputs=tuple(domain_text(d) for d in spec.domains),
        dtypes=spec.dtypes, complex=complex_text(spec),
        kwargs=kwargs_text(spec) if kwargs is None else kwargs, kinks=kinks_text(spec),
        conventions=tuple(f"{c.stage}: {_number(c.value)} where declared ({c.reason})" for c in spec.conventions),
        checks=tuple(c for c in CASE_CHECKS if _applies(spec, c)),
        reference="complex step (analytic op, real dtypes), central differences where not trusted" if spec.analytic
        else "central differences, Richardson",
    )  # fmt: skip


def _applies(spec: OpSpec, check: str) -> bool:
    return {"jvp": spec.forward_ad, "hvp": spec.second_order}.get(check[:3], True)


def domain_text(domain: Domain) -> str:
    """The domain's name with the set it stands for, e.g. ``real [-3, 3]``."""
    try:
        plain = str(dataclasses.replace(domain, name=""))
    except (TypeError, ValueError):  # a Domain subclass that cannot be copied this way
        return str(domain)
    return plain if not domain.name or domain.name == plain else f"{domain.name} ({plain})"


def complex_text(spec: OpSpec) -> str:
    """Which inputs are complex in complex dtypes and how they are drawn, and complex outputs."""
    parts = []
    if any(is_complex(d) for d in spec.dtypes):
        pairs = [i for i in range(spec.arity) if i not in spec.real_inputs]
        drawn = "; ".join(f"{i}: real part {domain_text(spec.domains[i])}, imaginary part "
                          f"{domain_text(imaginary_part(spec.domains[i]))}" for i in pairs)  # fmt: skip
        parts.append(f"complex inputs {drawn or 'none'}")
    if spec.complex_output:
        parts.append("complex output in every dtype")
    if not parts:
        return ""
    return "; ".join(parts) + " (checked on real and imaginary parts as view_as_real pairs)"


def kinks_text(spec: OpSpec) -> str:
    kinks = spec.kinks
    if kinks is None:
        return ""
    parts = []
    if kinks.points:
        parts.append("points " + ", ".join(_capped([_number(p) for p in kinks.points])))
    if kinks.kwarg_points:
        parts.append(f"at the values of {_listed('kwarg', kinks.kwarg_points)}")
    if kinks.ties:
        parts.append("ties (equal elements" + (", also across inputs)" if spec.arity > 1 else ")"))
    where = f" (on {_listed('input', kinks.inputs)})" if kinks.inputs is not None else ""
    return "; ".join(parts) + where


def _listed(noun: str, items: Iterable) -> str:
    items = [str(i) for i in items]
    return f"{noun}{'s' if len(items) > 1 else ''} {', '.join(items)}"


# -- drawing the kwargs ----------------------------------------------------------------------


@st.composite
def _shapes_then_kwargs(draw: st.DrawFn, spec: OpSpec) -> dict:
    """The first two draws of strategies.cases: shapes, then kwargs for them."""
    return draw(kwargs_for(spec, draw(spec.shapes, label="shapes")), label="kwargs")


def drawn_kwargs(spec: OpSpec, draws: int = DRAWS) -> list[dict]:
    """``draws`` kwargs dicts of ``spec``, the same ones on every run."""
    if spec.kwargs is _NO_KWARGS:
        return []
    seen: list[dict] = []

    @settings(STREAM_SETTINGS, max_examples=draws)
    @hypothesis_seed(zlib.crc32(f"describe:{spec.name}".encode()))
    @given(_shapes_then_kwargs(spec))
    def collect(kwargs: dict) -> None:
        seen.append(kwargs)

    with without_local_constants():
        collect()
    return seen


def kwargs_text(spec: OpSpec, draws: int = DRAWS) -> tuple[tuple[str, str], ...]:
    """Per kwarg, the values drawn in words; an op whose strategies fail says so (and how)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return kwarg_values(drawn_kwargs(spec, draws), draws)
    except Exception as exc:  # noqa: BLE001 - one broken entry must not hide the others
        return (("(not drawn)", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"),)


@dataclass
class DrawnCache:
    """The kwargs summaries of earlier listings, valid while the fingerprint of what they
    depend on (the catalogue's and strategies' source, hypothesis and NumPy versions, the
    number of draws) is unchanged: ``<cache_dir>/ops-described.json``."""

    kwargs: dict[str, tuple[tuple[str, str], ...]] = dataclasses.field(default_factory=dict)
    changed: bool = False

    @staticmethod
    def fingerprint() -> str:
        digest = hashlib.sha256(f"{hypothesis.__version__} {np.__version__} {DRAWS} {MAX_VALUES} {MAX_SHAPES}".encode())
        package = Path(__file__).resolve().parents[1]
        for path in sorted([*package.joinpath("catalogue").glob("*.py"), package / "strategies.py"]):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    @staticmethod
    def path() -> Path:
        from gradcheck_suite.cache import cache_dir

        return cache_dir() / "ops-described.json"

    @classmethod
    def load(cls) -> DrawnCache:
        try:
            stored = json.loads(cls.path().read_text(encoding="utf-8"))
            if stored.get("fingerprint") != cls.fingerprint():
                return cls()
            return cls({name: tuple(tuple(pair) for pair in pairs) for name, pairs in stored["kwargs"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # absent or unreadable: draw again
            return cls()

    def save(self) -> None:
        path = self.path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")  # whole or not at all, whoever writes too
            temporary.write_text(json.dumps({"fingerprint": self.fingerprint(), "kwargs": self.kwargs}), "utf-8")
            os.replace(temporary, path)
        except OSError:  # a read-only cache only costs the next listing its draws
            pass


# -- summarising drawn values ------------------------------------------------------------------


def kwarg_values(drawn: list[dict], draws: int) -> tuple[tuple[str, str], ...]:
    """Per kwarg (in the order first drawn): its distinct values sorted, arrays summarised."""
    names: dict[str, list] = {}
    for kwargs in drawn:
        for name, value in kwargs.items():
            names.setdefault(name, []).append(value)
    return tuple((name, summarize(values, len(drawn) or draws)) for name, values in names.items())


def summarize(values: list, draws: int) -> str:
    """Distinct values sorted (capped at MAX_VALUES), then arrays by dtype, then how often absent."""
    distinct: dict[tuple, Any] = {}
    for v in values:
        if not isinstance(v, np.ndarray):
            distinct.setdefault((type(v).__name__, fmt(v)), v)
    shown = _capped([fmt(v) for v in sorted(distinct.values(), key=_order)])
    shown += _arrays([v for v in values if isinstance(v, np.ndarray)])
    if len(values) < draws:
        shown.append(f"absent in {draws - len(values)} of {draws} draws")
    return ", ".join(shown)


def _capped(items: list[str]) -> list[str]:
    """At most MAX_VALUES items: the first ones, "…", the last one and how many there are."""
    if len(items) <= MAX_VALUES:
        return items
    return [*items[: MAX_VALUES - 2], "…", f"{items[-1]} ({len(items)} distinct)"]


def fmt(value: Any) -> str:
    """A value as Python would write it, short: floats to 6 digits, arrays by dtype and shape."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array {list(value.shape)}"
    if isinstance(value, np.generic):
        return f"{type(value).__name__}({fmt(value.item())})"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return _number(value, keep_point=True)
    if isinstance(value, tuple):
        return "(" + ", ".join(map(fmt, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(map(fmt, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{fmt(k)}: {fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, slice):
        return "slice(" + ", ".join(fmt(p) for p in (value.start, value.stop, value.step)) + ")"
    if value is Ellipsis:
        return "..."
    return repr(value)


def _number(x: float, keep_point: bool = False) -> str:
    text = f"{x:.6g}"
    return text + ".0" if keep_point and re.fullmatch(r"-?\d+", text) else text


def _order(value: Any) -> tuple:
    """Sort key across types: None, booleans, numbers by value (nan last, 2 before 2.0), strings, sequences."""
    if value is None:
        return (0,)
    if isinstance(value, (bool, np.bool_)):
        return (1, bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        x = float(value)
        return (2, math.isnan(x), 0.0 if math.isnan(x) else x, not isinstance(value, (int, np.integer)))
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, (tuple, list)):
        return (4, len(value), tuple(_order(v) for v in value))
    return (5, fmt(value))


def _arrays(arrays: list[np.ndarray]) -> list[str]:
    """Arrays by dtype: their distinct shapes and the range of their values."""
    out = []
    for dtype in sorted({str(a.dtype) for a in arrays}):
        group = [a for a in arrays if str(a.dtype) == dtype]
        shapes = sorted({a.shape for a in group}, key=lambda s: (len(s), s))
        listed = ", ".join(str(list(s)) for s in shapes[:MAX_SHAPES])
        if len(shapes) > MAX_SHAPES:
            listed += f", … ({len(shapes)} shapes)"
        text = f"{dtype} array{'s' if len(group) > 1 else ''} {listed}"
        filled = [a for a in group if a.size]
        if filled and dtype != "bool":
            low, high = min(a.min() for a in filled), max(a.max() for a in filled)
            text += f" (values {fmt(low.item())} to {fmt(high.item())})"
        out.append(text)
    return out


# -- rendering ---------------------------------------------------------------------------------


def text(descriptions: Iterable[Description], supports: Callable[[str], bool] | None = None) -> str:
    """The verbose listing: one block per op; ``supports`` marks what an engine lacks with ``-``."""
    lines = []
    for d in descriptions:
        mark = "" if supports is None else ("  " if supports(d.name) else "- ")
        lines.append(f"{mark}{d.name}  ({d.family})" + (f"  {d.doc}" if d.doc else ""))
        fields = _fields(d, code=lambda s: s)
        width = max(len(name) for name, _ in fields) + 1
        lines += [f"    {name + ':':<{width}} {value}" for name, value in fields]
    return "\n".join(lines) + "\n"


def markdown(descriptions: list[Description], supports: Callable[[str], bool] | None = None) -> str:
    """docs/ops.md: contents by family, then a section per op."""
    families: dict[str, list[Description]] = {}
    for d in descriptions:
        families.setdefault(d.family, []).append(d)
    out = [
        "# The op catalogue",
        "",
        f"Generated from `gradcheck_suite/catalogue/` by `{REGENERATE}`; do not edit by hand",
        "(`tests/test_ops_doc.py` fails when this page and the catalogue disagree). The same text, plainer:",
        "`gradcheck-suite list --verbose [--ops NAMES] [--engine NAME]`.",
        "",
        f"{len(descriptions)} ops in {len(families)} families. For each op: its input domains (where input",
        "values are drawn from), the dtypes it is checked in, the keyword arguments an engine's",
        f"`forward(op, arrays, kwargs)` is called with (the distinct values seen in {DRAWS} draws through the",
        "run's own strategies: a sample of what runs draw), its kinks (points the strategies aim at on",
        "purpose, where a mismatch may be a `convention`), the values it declares by convention,",
        "and the checks that apply to it.",
        "",
        "## Contents",
        "",
    ]
    anchor = _anchors(["The op catalogue", "Contents", *(t for f, m in families.items() for t in (f, *m))])
    for family, members in families.items():
        links = ", ".join(f"[{d.name}](#{anchor[d]})" for d in members)
        out.append(f"- [**{family}**](#{anchor[family]}) ({len(members)}): {links}")
    for family, members in families.items():
        out += ["", f"## {family}"]
        for d in members:
            out += ["", f"### {d.name}", ""]
            if d.doc:
                out += [d.doc, ""]
            if supports is not None:
                out.append(f"- engine: {'supported' if supports(d.name) else '**unsupported**'}")
            out += [f"- {name}: {value}" for name, value in _fields(d, code=lambda s: f"`{s}`")]
    return "\n".join(out) + "\n"


def _fields(d: Description, code: Callable[[str], str]) -> list[tuple[str, str]]:
    fields = [
        ("inputs", "; ".join(f"{i}: {code(x)}" for i, x in enumerate(d.inputs)) or "none"),
        ("dtypes", ", ".join(d.dtypes)),
    ]
    if d.complex:
        fields.append(("complex", d.complex))
    fields += [(f"kwarg {code(k)}", code(v)) for k, v in d.kwargs]
    if d.kinks:
        fields.append(("kinks", d.kinks))
    fields += [("convention", c) for c in d.conventions]
    fields.append(("checks", f"{', '.join(d.checks)}; numerical reference: {d.reference}"))
    return fields


def _anchors(headings: list) -> dict:
    """GitHub's anchor of each heading (a title, or a Description by its name), in page order:
    lower case, punctuation other than - and _ dropped, spaces to -; a repeat gets -1, -2, ...
    (``t`` and ``T`` are both ops)."""
    seen: dict[str, int] = {}
    out = {}
    for heading in headings:
        slug = re.sub(r"[^\w\- ]", "", getattr(heading, "name", heading).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out[heading] = f"{slug}-{count}" if count else slug
    return out
