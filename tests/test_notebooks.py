"""The research notebooks in ``notebooks/`` execute without error, are stored without outputs,
and use only simsuite's public API.

Each notebook runs in a fresh kernel of the interpreter running the tests (a kernelspec
written to a temporary directory points at ``sys.executable``), so a stray ``python3``
kernelspec elsewhere on the machine cannot pick a different environment.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# Seconds a whole notebook may take (each is sized to run in well under a minute on 2 cores;
# the margin absorbs a busy CI machine and kernel start-up).
TIMEOUT_PER_NOTEBOOK = 240
KERNEL_NAME = "simsuite-notebook-tests"

# `from simsuite.x import _y`, `from simsuite.x import a, _y`, `import simsuite._x`,
# `simsuite._x` or `simsuite.x._y` anywhere in the code (dunders such as `__version__` are public).
PRIVATE_PATTERNS = [
    re.compile(r"from\s+simsuite(\.\w+)*\s+import\s+\(?[^\n#]*\b_(?!_)\w+"),
    re.compile(r"\bsimsuite(\.\w+)*\._(?!_)\w+"),
]


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.fixture(scope="session")
def kernel_spec_manager(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec running ipykernel under the test interpreter, in a private directory."""
    root = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(root / KERNEL_NAME, overrides={"display_name": "simsuite tests"})
    return KernelSpecManager(kernel_dirs=[str(root)], ensure_native_kernel=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.get("outputs"), f"{path.name}: cell {i} has stored outputs; clear them"
        assert cell.get("execution_count") is None, f"{path.name}: cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_uses_only_public_api(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for pattern in PRIVATE_PATTERNS:
            match = pattern.search(cell.source)
            assert match is None, f"{path.name}: cell {i} uses a private name: {match.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_ends_with_conclusion(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "conclusion" in last.source.lower(), (
        f"{path.name}: the last cell should be a markdown conclusion"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path: Path, kernel_spec_manager: KernelSpecManager) -> None:
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_spec_manager)
    assert km.kernel_spec.argv[0] == sys.executable
    deadline = time.monotonic() + TIMEOUT_PER_NOTEBOOK
    client = NotebookClient(
        nb,
        km=km,
        # Each cell may use what is left of the notebook's budget: a notebook-wide timeout.
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        # Run in notebooks/ as Jupyter would.
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # Raises CellExecutionError (with the cell and traceback) if a cell fails, and
    # CellTimeoutError if the notebook runs past its budget.
    client.execute()
