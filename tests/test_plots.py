"""Every figure is produced from a small run and written as a non-blank PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from simsuite import RunOptions, load_scenario, run
from simsuite.analysis.ranking import rank
from simsuite.analysis.sweep import SENSITIVITY_DELTAS, sensitivity, sweep
from simsuite.report import figures as plots
from simsuite.scenario.schema import RiskAppetite

SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SMALL)


@pytest.fixture(scope="module")
def ds(scenario):
    return run(scenario, RunOptions(simulations=2000, seed=5))


def _nonblank_png(fig: Figure, path: Path) -> np.ndarray:
    assert isinstance(fig, Figure)
    fig.savefig(path, dpi=60)
    img = mpimg.imread(path)[..., :3]
    # Ink in every quarter of the image: axes, curves and labels, not an empty canvas.
    h, w = img.shape[:2]
    for part in (img[: h // 2, : w // 2], img[: h // 2, w // 2:], img[h // 2:, : w // 2], img[h // 2:, w // 2:]):
        assert part.std() > 0.03
    return img


def test_payoff_grid_reproduces_the_engine_settlement(ds):
    # Settling each contract at the simulated savings rates must give the simulated results.
    for name in ["mssp-basic-a", "mssp-basic-e", "mssp-enhanced"]:
        rates = ds["savings_rate"].sel(contract=name).values[:300]
        net = plots.payoff_grid(ds, rates)[name]
        np.testing.assert_allclose(net, ds["net"].sel(contract=name).values[:300], rtol=1e-9, atol=1e-3)
    grid = plots.payoff_grid(ds, np.array([-0.05, 0.0, 0.05]))
    assert np.all(grid["ffs"] == 0) and grid["mssp-basic-a"][0] == 0 and grid["mssp-enhanced"][0] < 0


def test_every_figure(ds, scenario, tmp_path):
    r = rank(ds, RiskAppetite(max_var95=300_000))
    _nonblank_png(plots.loss_distribution(ds), tmp_path / "loss.png")
    _nonblank_png(plots.exceedance_curves(ds), tmp_path / "exceedance.png")
    _nonblank_png(plots.payoff_diagram(ds), tmp_path / "payoff.png")
    _nonblank_png(plots.risk_return(ds, r.recommended, 400_000), tmp_path / "risk_return.png")
    sw = sweep(scenario, "population.beneficiaries", [600, 1200, 2400], RunOptions(simulations=600, seed=5))
    _nonblank_png(plots.panel_size_curves(sw, RiskAppetite(max_var95=300_000, max_p_loss=0.3)), tmp_path / "sizes.png")
    sens = sensitivity(scenario, RunOptions(simulations=400, seed=5), deltas=SENSITIVITY_DELTAS[:3])
    assert sens["summary"].dims == ("factor", "side", "contract", "measure")
    # Raising the true savings raises every two-sided contract's expected result.
    change = sens["summary"].sel(factor="assumptions.true_savings", measure="mean") - sens["base"].sel(measure="mean")
    assert float(change.sel(side="high", contract="mssp-enhanced")) > 0 > float(change.sel(side="low", contract="mssp-enhanced"))
    _nonblank_png(plots.tornado(sens), tmp_path / "tornado.png")


def test_tornado_labels_an_assumption_that_moves_nothing(ds):
    # Two factors over the run's contracts: one moves every result by +-1,000, one moves nothing.
    import xarray as xr

    base = ds["summary"]
    step = xr.DataArray([[-1_000.0, 1_000.0], [0.0, 0.0]], dims=("factor", "side"))
    sens = xr.Dataset(
        {"summary": base.expand_dims(factor=2, side=2) + step, "base": base},
        coords={"factor": ["a", "b"], "side": ["low", "high"], "label": ("factor", ["moves", "inert"])},
    )
    fig = plots.tornado(sens)
    ticks = [[t.get_text() for t in ax.get_yticklabels()] for ax in fig.axes[:2]]
    for labels in ticks:
        assert sorted(labels) == ["inert (no effect here)", "moves"]
