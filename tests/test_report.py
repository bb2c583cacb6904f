"""The HTML report: self-contained, and rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    from simsuite.cli.app import main

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
    from simsuite.report.html import default_sizes
    from simsuite.scenario.load import load_scenario

    small = load_scenario(Path(__file__).parent / "scenarios" / "valid-small.yaml")  # 1,200, variable MSR
    # 0.2x (240) is below the MSR table's 500 and is left out; the others remain
    assert default_sizes(small) == [600, 1200, 2400, 4800]


# ---- the agreement's cash, value and decision (a multi-year scenario with a finance section) ----

@pytest.fixture(scope="module")
def agreement_report(tmp_path_factory):
    import yaml

    from simsuite.cli.app import main

    folder = tmp_path_factory.mktemp("agreement")
    data = yaml.safe_load((Path(__file__).parent.parent / "scenarios" / "aco-2027-new-entrant.yaml").read_text())
    data["population"]["beneficiaries"] = 6000
    scenario = folder / "entrant.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = folder / "report.html"
    with pytest.raises(SystemExit) as info:
        main(["report", str(scenario), "--sims", "600", "--side-sims", "200", "--sizes", "none", "--no-sensitivity",
              "--out", str(out)])
    assert info.value.code == 0
    return out


def _section(text: str) -> str:
    return text[text.index("<h2 id='agreement-decision'>"):text.index("<h2>Figures</h2>")]


@pytest.mark.slow
def test_agreement_section_has_value_decision_and_figures(agreement_report):
    text = agreement_report.read_text(encoding="utf-8")
    section = _section(text)
    assert "Cash, value and the path to take" in section
    assert "<th>expected NPV</th>" in section and "<th>P(reserve runs out)</th>" in section
    assert "is recommended: highest expected net present value" in section
    assert "The option to stay in BASIC Level A (42 CFR 425.600(a)(4)(i)(C)(3)) is worth" in section
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', section)) == 2
    assert "42 CFR 425.605(e)(3)" in section  # the cash notes, with their sources
    assert agreement_report.with_suffix(".xlsx").stat().st_size > 0  # the workbook beside it


@pytest.mark.slow
def test_agreement_section_renders_in_headless_chromium(agreement_report, tmp_path):
    """The section alone, with the report's own stylesheet, as Chromium draws it: text, the
    recommendation box, and the two figures in the contracts' colours."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (see docs/ci-chromium.md)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    text = agreement_report.read_text(encoding="utf-8")
    page = tmp_path / "section.html"
    page.write_text(text[:text.index("<body>") + len("<body>")] + _section(text) + "</body></html>", encoding="utf-8")
    shot = tmp_path / "section.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tempfile.mkdtemp()}", f"--screenshot={shot}", "--window-size=1280,3200", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    img = (mpimg.imread(shot)[..., :3] * 255).round().astype(int)
    assert img.shape[:2] == (3200, 1280)
    rows_with_ink = (img.min(axis=(1, 2)) < 128)
    assert rows_with_ink[:600].mean() > 0.2  # heading, notes and the two tables
    # The recommendation box: its pale blue fill and its accent border (CSS .recommendation).
    colours = {tuple(px) for px in img.reshape(-1, 3)[::3]}
    assert (0xEE, 0xF4, 0xFB) in colours and (0x1F, 0x5F, 0xA8) in colours
    # The figures: many colours, among them the first contracts' lines (matplotlib C1, C4).
    def near(rgb: tuple[int, int, int]) -> bool:
        return bool((np.abs(img - np.array(rgb)).sum(axis=-1) < 24).any())

    assert near((0xFF, 0x7F, 0x0E)) and near((0x94, 0x67, 0xBD))
    assert len({tuple(px) for px in (img[::5, ::5] // 16).reshape(-1, 3)}) > 60
