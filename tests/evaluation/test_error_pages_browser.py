"""The error pages in a real browser: headless Chromium loads a page and logs no console message
(the pages' content security policy makes any script or fetch a logged refusal, which the
control page shows), its DOM holds every mark, and it renders a screenshot."""

import shutil
import subprocess
from pathlib import Path

import pytest

from clinical_ie.evaluation.evaluate import evaluate
from tests.evaluation.test_error_pages import NOTE_MARKS, count_marks

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium; .ci/run installs it where apt-get works as root)",
)


def run_chromium(page: Path, profile: Path, *options: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``page`` (offline, as root, with its own profile), console to stderr."""
    return subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", *options, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )


def console_messages(result: subprocess.CompletedProcess) -> list:
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_error_page_renders_in_chromium(tmp_path, gold_path, ruler_model):
    evaluate(ruler_model, gold_path, "n2c2", tmp_path / "metrics")
    page = tmp_path / "metrics" / "n2c2-errors" / "note1.html"

    dom = run_chromium(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<h1>note1</h1>" in dom.stdout
    assert console_messages(dom) == []
    assert count_marks(dom.stdout).marks == NOTE_MARKS

    screenshot = tmp_path / "note1.png"
    shot = run_chromium(page, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    control = page.with_name("control.html")
    control.write_text(page.read_text(encoding="utf8").replace("<body>", '<body><img src="plot.png">'), encoding="utf8")
    refused = console_messages(run_chromium(control, tmp_path / "profile", "--dump-dom"))
    assert len(refused) == 1 and "plot.png" in refused[0] and "Content Security Policy" in refused[0]
