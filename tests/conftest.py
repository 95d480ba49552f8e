"""Shared fixtures: an isolated environment per test and real photo files."""

from __future__ import annotations

import os

import pytest
from support import make_photo


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test ever touches the real home directory or the user's catalog."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("CLIPDESK_DATA_DIR", str(home / "clipdesk-data"))
    monkeypatch.setenv("CLIPDESK_CACHE_DIR", str(home / "clipdesk-cache"))
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    yield home


@pytest.fixture(scope="session")
def corpus():
    """The real-photo corpus (tests/corpus/README.md): files fetched on first use into a cache outside the repository."""
    from corpus import Corpus

    return Corpus()


@pytest.fixture
def paths(tmp_path):
    from clipdesk.core.paths import Paths

    return Paths.under(tmp_path / "app").ensure()


@pytest.fixture
def photo():
    return make_photo


@pytest.fixture
def library(paths):
    from clipdesk.core.library import Library

    lib = Library(paths)
    yield lib
    lib.close()
