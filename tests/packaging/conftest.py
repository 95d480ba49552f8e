"""The packaging tests: fast checks of the installer recipes, and the full Linux build."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
# bundle_contents (the spec's rules) and the test kits under tests/.
for path in (PACKAGING, REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "packaging: builds the Linux installers and verifies them on a clean Debian 12 root "
        "(minutes; runs only with CLIPDESK_PACKAGING=1)",
    )
