"""Keep Numba's on-disk cache of simsuite's kernels consistent with their source.

Numba invalidates a cached kernel only when the kernel's own file changes, not when a
function it calls from another module does (e.g. the random-number helpers in
``kernels/rng.py``). After an edit or a ``git pull`` that touched only such a module,
the cache would silently run the old code. So the cache is fingerprinted with every
kernel source file, and dropped whenever any of them changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_MARKER = "simsuite-kernels.sha256"


def kernel_sources_digest(package_dir: Path) -> str:
    """SHA-256 of every ``*.py`` file of the kernel package, in name order."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_cache(package_dir: Path) -> bool:
    """Delete cached kernels in ``package_dir/__pycache__`` if any kernel source changed.

    Returns True if stale files were deleted. Failures to read or write (e.g. a
    read-only install, where Numba caches elsewhere) are ignored: nothing is cached
    beside the sources then.
    """
    cache = package_dir / "__pycache__"
    marker = cache / _MARKER
    try:
        current = kernel_sources_digest(package_dir)
        if marker.exists() and marker.read_text() == current:
            return False
        stale = list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")) if cache.exists() else []
        for path in stale:
            path.unlink()
        cache.mkdir(exist_ok=True)
        marker.write_text(current)
        return bool(stale)
    except OSError:
        return False
