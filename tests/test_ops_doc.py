"""The op table: `gradcheck-suite list --verbose` and the generated docs/ops.md.

The committed page must be exactly what the command writes now (the failure says how to
regenerate it); the listing must show, for known ops, the domains, kwarg values, kinks,
conventions and checks their catalogue entries declare, the same on every run.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np
import pytest

from gradcheck_suite import catalogue, cli
from gradcheck_suite.catalogue import CATALOGUE, describe
from gradcheck_suite.catalogue.pointwise import HALF_INTEGER_BOUNDS
from gradcheck_suite.engines import Engine
from gradcheck_suite.records import CASE_CHECKS

ROOT = Path(__file__).resolve().parents[1]
OPS_MD = ROOT / "docs" / "ops.md"


def listing(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert cli.main(["list", *argv]) == cli.EXIT_OK
    return capsys.readouterr().out


def blocks(text: str) -> dict[str, dict[str, str]]:
    """The verbose listing as op -> {field: value} (the header line under "")."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("    "):
            field, _, value = line.strip().partition(": ")
            current[field] = value.strip()
        elif line.startswith(("  ", "- ")) or (line and not line.startswith("engine ")):
            name = line[2:].split()[0] if line.startswith(("  ", "- ")) else line.split()[0]
            current = out[name] = {"": line}
    return out


def values_of(field: str) -> list[str]:
    return [v.strip() for v in field.split(", ")]


# -- the committed page -------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> str:
    """What the regeneration command prints, drawn from scratch (this session's own cache)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(describe.REGENERATE.split(">")[0].split()[3:]) == cli.EXIT_OK
    return out.getvalue()


@pytest.mark.slow
def test_the_committed_ops_md_is_what_the_command_generates(generated):
    assert describe.REGENERATE.startswith("python -m gradcheck_suite list ")
    committed = OPS_MD.read_text(encoding="utf-8") if OPS_MD.exists() else ""
    if committed != generated:
        diff = "".join(
            list(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True), "committed", "now"))[:40]
        )
        how = f"regenerate it with\n\n    {describe.REGENERATE}\n\n(from the repository root)"
        pytest.fail(f"docs/ops.md is out of date with the catalogue; {how}. First differences:\n{diff}")


@pytest.mark.slow
def test_the_page_has_a_section_per_op_and_contents_links_that_resolve(generated):
    headings = re.findall(r"^#+ (.+)$", generated, re.M)
    assert [h for h in headings if h in CATALOGUE] == list(CATALOGUE)
    assert set(catalogue.FAMILIES) <= set(headings)
    anchors, seen = set(), {}
    for h in headings:  # GitHub's rule: lower case, punctuation dropped, repeats numbered
        slug = re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    links = re.findall(r"\]\(#([^)]+)\)", generated)
    assert len(links) == len(CATALOGUE) + len(catalogue.FAMILIES)
    assert set(links) <= anchors and len(set(links)) == len(links)


@pytest.mark.slow
def test_every_op_section_shows_its_domains_dtypes_and_the_checks_its_flags_allow(generated):
    sections = re.split(r"^### ", generated, flags=re.M)[1:]
    assert len(sections) == len(CATALOGUE)
    for section in sections:
        spec = CATALOGUE[section.split("\n", 1)[0]]
        fields = dict(re.findall(r"^- ([^:]+): (.*)$", section, re.M))
        assert all(str(d) in fields["inputs"] for d in spec.domains)
        assert fields["dtypes"] == ", ".join(spec.dtypes)
        checks = fields["checks"].split(";")[0].split(", ")
        assert ("jvp-fd" in checks) == spec.forward_ad and ("hvp-fd" in checks) == spec.second_order
        assert set(checks) <= set(CASE_CHECKS) and {"forward", "vjp-torch", "vjp-fd"} <= set(checks)
        assert ("complex step" in fields["checks"]) == spec.analytic
        assert ("kinks" in fields) == (spec.kinks is not None)
        assert "(not drawn)" not in section, f"{spec.name}: its kwargs strategy failed"


# -- list --verbose --------------------------------------------------------------------------


def test_clamp_shows_every_bound_its_strategy_samples_and_its_kwarg_kinks(capsys):
    shown = blocks(listing(capsys, "--verbose", "--ops", "clamp"))
    assert list(shown) == ["clamp"]
    clamp = shown["clamp"]
    for bound in ("min", "max"):
        assert values_of(clamp[f"kwarg {bound}"]) == [describe.fmt(v) for v in sorted(
            HALF_INTEGER_BOUNDS, key=lambda v: (v is not None, v or 0))]  # fmt: skip
    assert clamp["kinks"] == "at the values of kwargs min, max"
    assert str(CATALOGUE["clamp"].domains[0]) in clamp["inputs"]
    assert CATALOGUE["clamp"].doc in clamp[""]


def test_embedding_shows_padding_idx_values_index_arrays_and_its_convention(capsys):
    emb = blocks(listing(capsys, "--verbose", "--ops", "nn.embedding"))["nn.embedding"]
    padding = values_of(emb["kwarg padding_idx"])
    assert padding[0] == "None"  # None sorts first
    ints = [int(v) for v in padding[1:]]
    assert ints == sorted(ints) and min(ints) < 0 <= max(ints) and min(ints) >= -4 and max(ints) <= 3
    assert emb["kwarg index"].startswith("int64 arrays ") and "(values 0 to " in emb["kwarg index"]
    reason = CATALOGUE["nn.embedding"].conventions[0].reason
    assert emb["convention"] == f"vjp: 0 where declared ({reason})"


def test_reductions_show_dims_in_range_and_both_keepdims(capsys):
    shown = blocks(listing(capsys, "--verbose", "--ops", "sum,relu,maximum"))
    dims = values_of(shown["sum"]["kwarg dim"])
    assert dims[0] == "None" and {"False", "True"} == set(values_of(shown["sum"]["kwarg keepdim"]))
    ints = [int(d) for d in dims if re.fullmatch(r"-?\d", d)]
    assert ints and all(-4 <= d <= 3 for d in ints) and any(d.startswith("(") for d in dims)
    assert shown["relu"]["kinks"] == "points 0" and "kwarg" not in " ".join(shown["relu"])
    assert shown["maximum"]["kinks"].startswith("ties (equal elements, also across inputs)")


def test_the_listing_is_the_same_on_every_run_and_with_or_without_the_cache(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADCHECK_SUITE_CACHE", str(tmp_path))
    monkeypatch.setattr(describe.DrawnCache, "fingerprint", staticmethod(lambda: "this catalogue"))
    ops = ("clamp", "sum", "nn.embedding", "getitem_advanced")
    first = listing(capsys, "--verbose", "--ops", ",".join(ops))
    assert (tmp_path / "ops-described.json").exists()
    specs = catalogue.select(ops)  # in catalogue order, as the command lists them
    assert describe.text(describe.describe_all(specs, use_cache=False)) == first
    monkeypatch.setattr(describe, "kwargs_text", lambda spec: pytest.fail("drawn again despite the cache"))
    assert listing(capsys, "--verbose", "--ops", ",".join(ops)) == first


def test_a_changed_source_fingerprint_draws_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADCHECK_SUITE_CACHE", str(tmp_path))
    spec = CATALOGUE["clamp"]
    describe.describe_all([spec])
    drawn = []
    monkeypatch.setattr(describe.DrawnCache, "fingerprint", staticmethod(lambda: "another catalogue"))
    monkeypatch.setattr(describe, "kwargs_text", lambda s: drawn.append(s.name) or (("min", "1"),))
    assert describe.describe_all([spec])[0].kwargs == (("min", "1"),) and drawn == ["clamp"]


class OnlyClamp(Engine):
    """An adapter that supports clamp alone (supports() is all `list` asks of it)."""

    name, version = "only-clamp", "0"

    def supports(self, op) -> bool:
        return op.name == "clamp"


ONLY_CLAMP = OnlyClamp()


def test_engine_marks_work_with_verbose_and_markdown(capsys):
    text = listing(capsys, "--verbose", "--ops", "clamp,relu", "--engine", "test_ops_doc:ONLY_CLAMP")
    headers = [line for line in text.splitlines() if not line.startswith("    ")]
    assert sorted(headers[:2]) == ["  clamp  (pointwise)  " + CATALOGUE["clamp"].doc,
                                   "- relu  (pointwise)  " + CATALOGUE["relu"].doc]  # fmt: skip
    assert text.rstrip().endswith("engine 'test_ops_doc:ONLY_CLAMP' supports 1 of 2 ops ('-': unsupported)")
    page = listing(capsys, "--format", "markdown", "--ops", "clamp,relu", "--engine", "test_ops_doc:ONLY_CLAMP")
    assert "- engine: supported" in page and "- engine: **unsupported**" in page
    assert "supports 1 of 2" not in page  # the page is markdown alone


def test_an_unknown_op_in_list_exits_2(capsys):
    assert cli.main(["list", "--verbose", "--ops", "clampp"]) == cli.EXIT_USAGE
    assert "did you mean 'clamp'" in capsys.readouterr().err


# -- summaries of drawn values -----------------------------------------------------------------


def test_values_are_distinct_sorted_by_type_then_value_and_capped():
    assert describe.summarize([2, None, 0.5, 2, True, "mean", -1, (1, 0), 2.0], 9) == (
        "None, True, -1, 0.5, 2, 2.0, 'mean', (1, 0)"
    )
    many = describe.summarize(list(range(25, 0, -1)), 25)
    assert many == "1, 2, 3, 4, 5, 6, 7, 8, …, 25 (25 distinct)"
    assert describe.summarize([3], 4) == "3, absent in 3 of 4 draws"


def test_arrays_are_summarised_by_dtype_shapes_and_value_range():
    arrays = [np.array([[0, 3]]), np.array(1), np.zeros((0, 2), np.int64), np.array([True])]
    assert describe.summarize([None, *arrays], 5) == (
        "None, bool array [1], int64 arrays [], [0, 2], [1, 2] (values 0 to 3)"
    )
    nested = describe.fmt((Ellipsis, np.array([1, 2]), slice(None, 2, None), np.float64(0.5)))
    assert nested == "(..., int64 array [2], slice(None, 2, None), float64(0.5))"
