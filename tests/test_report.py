"""The HTML report: self-contained, and rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import pytest

SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    from simsuite.cli import cli, main
    from simsuite.decision_cli import report

    cli.add_command(report)
    out = tmp_path_factory.mktemp("report") / "report.html"
    with pytest.raises(SystemExit) as info:
        main(["report", str(SMALL), "--sims", "2000", "--side-sims", "300", "--sizes", "600,1200,2400",
              "--max-var95", "300k", "--out", str(out)])
    assert info.value.code == 0
    return out


def test_report_is_self_contained_with_table_recommendation_and_figures(report_file):
    text = report_file.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "@media print" in text
    assert "<table class='comparison'>" in text and text.count("<tr") == 1 + 4  # header + 4 contracts
    assert "is recommended" in text and "1-in-20 loss" in text
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', text)) == 6
    # no network: nothing is fetched from anywhere
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", text)
    assert "1,200</b> assigned Medicare beneficiaries" in text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(report_file, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (see docs/ci-chromium.md)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tempfile.mkdtemp()}", f"--screenshot={shot}", "--window-size=1280,2400",
         report_file.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[:2] == (2400, 1280)
    # The page is white with dark text; the table band and the figures have ink, and the
    # first figure (below the table) is a full-width picture with many colours.
    rows_with_ink = (img.min(axis=(1, 2)) < 0.5)
    assert rows_with_ink[:400].mean() > 0.2  # title, scenario text and recommendation
    for top in range(0, 2400, 400):
        band = img[top: top + 400]
        assert band.std() > 0.05, f"blank band at {top}px"
    colours = {tuple(px) for px in (img[900:2400:7, 100:1180:7] * 16).astype(int).reshape(-1, 3)}
    assert len(colours) > 40  # figures, not just text


def test_default_panel_sizes_leave_out_sizes_no_contract_can_settle():
    from simsuite.report import default_sizes
    from simsuite.scenario import load_scenario

    small = load_scenario(Path(__file__).parent / "scenarios" / "valid-small.yaml")  # 1,200, variable MSR
    # 0.2x (240) is below the MSR table's 500 and is left out; the others remain
    assert default_sizes(small) == [600, 1200, 2400, 4800]
