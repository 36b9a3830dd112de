"""Shared fixtures. Tests that need ../shared/data use `shared_data` and are
skipped when it is absent (set ADTOS_SHARED_DATA to point elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    return Path(os.environ.get("ADTOS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root}")
    return root


def pytest_collection_modifyitems(config, items):
    # A test marked shared_data is skipped up front when the folder is absent,
    # even if it does not use the fixture directly.
    if shared_data_root().is_dir():
        return
    skip = pytest.mark.skip(reason="../shared/data is absent")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a shared machine threads wait on each other."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
