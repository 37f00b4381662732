"""docs/check-your-torch-code.md: its examples run as written and print what the page shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gradcheck_suite as gs

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "check-your-torch-code.md"
EXAMPLES = ROOT / "docs" / "examples"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(GUIDE.read_text(encoding="utf-8"))]


def shown_after(marker: str, lang: str = "python") -> tuple[str, str]:
    """The first ``lang`` block containing ``marker``, and the text block after it."""
    shown = blocks()
    i = next(i for i, (kind, text) in enumerate(shown) if kind == lang and marker in text)
    return shown[i][1], next(text for kind, text in shown[i + 1 :] if kind == "text")


def run_block(code: str, capsys) -> str:
    exec(compile(code, str(GUIDE), "exec"), {"__name__": "guide_example"})
    return capsys.readouterr().out


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """A fresh working directory with the default cache (.gradcheck-suite/ in it), as a user has."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRADCHECK_SUITE_CACHE", raising=False)
    return tmp_path


def test_the_swapped_import_fails_with_the_message_shown(in_tmp):
    code, message = shown_after("import gradcheck_suite as gs  # was:")
    with pytest.raises(gs.GradcheckError) as info:
        exec(compile(code, str(GUIDE), "exec"), {"__name__": "guide_example"})
    assert str(info.value) == message.rstrip("\n")
    assert (in_tmp / ".gradcheck-suite" / "replays" / "gradcheck-float64-4cd38ee7.py").exists()
    right = code.replace(" * 1.05, None", ", None").replace("gs.gradcheck(", "RESULT = gs.gradcheck(")
    namespace: dict = {"__name__": "guide_example"}
    exec(compile(right, str(GUIDE), "exec"), namespace)
    assert namespace["RESULT"] is True  # "Without the * 1.05 it returns True"


def test_the_records_table_is_what_the_check_gives(in_tmp):
    code, _ = shown_after("import gradcheck_suite as gs  # was:")
    code = code.replace("gs.gradcheck(lambda x: MySoftplus.apply(x, 2.0), (x,))",
                        "RESULT = gs.check(lambda x: MySoftplus.apply(x, 2.0), (x,))")  # fmt: skip
    namespace: dict = {"__name__": "guide_example"}
    exec(compile(code, str(GUIDE), "exec"), namespace)
    table = "".join(f"{r.check:<16} {r.verdict:<12} {r.rule}\n" for r in namespace["RESULT"].records)
    assert table == next(text for kind, text in blocks() if kind == "text" and text.startswith("forward  "))


def test_check_module_prints_what_it_shows(capsys):
    code, output = shown_after("gs.check_module(net")
    assert run_block(code, capsys) == output


def test_gradgradcheck_prints_what_it_shows(capsys):
    code, output = shown_after("class Cube")
    assert run_block(code, capsys) == output


def test_code_without_a_torch_twin_prints_what_it_shows(capsys):
    code, output = shown_after("torch_fn=False))")
    assert run_block(code, capsys) == output


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)")
def test_the_cuda_example_runs_on_cuda(capsys):
    code = next(text for kind, text in blocks() if kind == "python" and 'device="cuda"' in text)
    out = run_block("import torch\nimport gradcheck_suite as gs\n" + code, capsys)
    assert out.split()[:3] == ["True", "cuda:0", "False"]


def test_the_pytest_example_fails_one_test_and_shows_the_script(tmp_path):
    command = next(text for kind, text in blocks() if kind == "bash" and "pytest test_softplus.py" in text)
    assert command.strip() == "cd docs/examples && python3 -m pytest test_softplus.py"
    env = {**os.environ, "GRADCHECK_SUITE_CACHE": str(tmp_path)}
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_softplus.py"],
                         cwd=EXAMPLES, capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    out = run.stdout
    _, shown = shown_after("pytest test_softplus.py", lang="bash")
    failed_line = shown.splitlines()[0]
    assert failed_line.startswith("FAILED test_softplus.py::test_softplus_gradient - Failed: gradcheck failed")
    assert "FAILED test_softplus.py::test_softplus_gradient - Failed: gradcheck failed" in out  # (cut to the width)
    assert re.search(r"=+ 1 failed, 1 passed in [\d.]+s =+", out)
    assert "the gradient of input 0 at [" in out and "Captured gradcheck replay script call" in out
    assert "from softplus import softplus2" in out  # the script imports the function by its name
