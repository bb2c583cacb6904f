"""A change to any kernel source drops Numba's cached kernels (which would otherwise go stale)."""

from __future__ import annotations

from simsuite.kernels._cache import drop_stale_cache


def test_cache_is_dropped_when_any_kernel_source_changes(tmp_path):
    (tmp_path / "panel.py").write_text("def f(): pass\n")
    (tmp_path / "rng.py").write_text("A = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "panel.f-1.py311.nbi").write_text("index")
    (cache / "panel.f-1.py311.1.nbc").write_text("code")

    assert drop_stale_cache(tmp_path)  # no fingerprint yet: dropped
    (cache / "panel.f-1.py311.nbi").write_text("index")
    assert not drop_stale_cache(tmp_path)  # unchanged sources: kept
    assert (cache / "panel.f-1.py311.nbi").exists()

    (tmp_path / "rng.py").write_text("A = 2\n")  # only the helper module changed
    assert drop_stale_cache(tmp_path)
    assert not (cache / "panel.f-1.py311.nbi").exists()
