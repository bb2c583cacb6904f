"""Keep Numba's on-disk cache of simsuite's kernels consistent with their source.

Numba invalidates a cached kernel only when the kernel's own file changes, not when a
function it calls from another module does (e.g. the random-number helpers in
``kernels/rng.py``). After an edit or a ``git pull`` that touched only such a module,
the cache would silently run the old code. So the cache is fingerprinted with every
kernel source file, and dropped whenever any of them changed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_MARKER = "simsuite-kernels.sha256"
_LOCK = "simsuite-kernels.lock"


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

    Safe when several processes import the kernels at once (the worker processes of a
    Dask cluster): the check, the deletion and the new fingerprint happen under an
    exclusive lock on ``__pycache__/simsuite-kernels.lock`` (where ``fcntl`` exists), a
    file another process deleted first is not an error, and the fingerprint is replaced
    atomically, so no process can read a half-written one, or see the new fingerprint
    while stale kernels are still there and go on to load one of them.
    """
    cache = package_dir / "__pycache__"
    marker = cache / _MARKER
    try:
        current = kernel_sources_digest(package_dir)
        if _read(marker) == current:  # the common case, without taking the lock
            return False
        cache.mkdir(exist_ok=True)
        with _exclusive(cache / _LOCK):
            if _read(marker) == current:  # another process has just dropped them
                return False
            stale = list(cache.glob("*.nbi")) + list(cache.glob("*.nbc"))
            for path in stale:
                path.unlink(missing_ok=True)
            partial = cache / f".{_MARKER}.{os.getpid()}.partial"
            partial.write_text(current)
            os.replace(partial, marker)
            return bool(stale)
    except OSError:
        return False


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (a no-op without ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # Windows: the deletion still tolerates a concurrent one
        yield
        return
    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
