"""Which built-in model searches what: the offline model for real photos is the default for a
user's own folders, the demo model searches the demo library, and the status line says what
the built-in model knows and that a download searches far more (issue 20, "In the product")."""

from __future__ import annotations

import pytest
from colourkit import write_colour_bundle

from clipdesk.core import modelhub
from clipdesk.core.library import Library
from clipdesk.core.paths import PACKAGE_ROOT, Paths


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """Both built-in model names, as small real bundles (the colour kit's), and nothing downloaded."""
    folder = tmp_path / "shipped"
    for name in (modelhub.DEMO_MODEL, modelhub.OFFLINE_MODEL):  # the demo's written first on purpose
        write_colour_bundle(folder / name)
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(folder))
    return folder


def test_the_offline_model_comes_before_the_demo_model_and_after_any_download(shipped, paths):
    assert [m.model_id for m in modelhub.installed_models(paths)] == [modelhub.OFFLINE_MODEL, modelhub.DEMO_MODEL]
    assert modelhub.choose_model(paths).model_id == modelhub.OFFLINE_MODEL
    write_colour_bundle(paths.models_dir / modelhub.DEFAULT_MODEL)
    assert modelhub.choose_model(paths).model_id == modelhub.DEFAULT_MODEL
    assert modelhub.choose_model(paths, preferred=modelhub.DEMO_MODEL).model_id == modelhub.DEMO_MODEL


def test_the_status_line_says_what_the_offline_model_knows_and_keeps_offering_the_download(shipped, paths):
    with Library(paths) as lib:
        st = lib.models.status()
    assert st.model_id == modelhub.OFFLINE_MODEL and st.is_demo  # built in: the banner offers the download
    assert "offline model" in st.message and "ImageNet" in st.message
    assert "not people" in st.message and "far more" in st.message and modelhub.DEFAULT_MODEL in st.message


def test_the_demo_library_is_searched_with_the_demo_model(shipped, paths, tmp_path):
    from clipdesk.demo import setup_demo

    with Library(paths) as lib:
        assert lib.models.active().model_id == modelhub.OFFLINE_MODEL
        setup_demo(lib, count=6)
        assert lib.models.active().model_id == modelhub.DEMO_MODEL
        assert "Demo model" in lib.models.status().message


def test_a_library_with_folders_keeps_its_model_when_the_demo_is_added(shipped, paths, tmp_path):
    from clipdesk.demo import setup_demo

    own = tmp_path / "mine"
    own.mkdir()
    with Library(paths) as lib:
        lib.folders.add(own)
        setup_demo(lib, count=6)
        assert lib.models.active().model_id == modelhub.OFFLINE_MODEL


def test_the_repository_ships_both_and_chooses_the_offline_model(tmp_path, monkeypatch):
    monkeypatch.delenv("CLIPDESK_MODELS_DIR", raising=False)
    paths = Paths.under(tmp_path / "app").ensure()
    shipped = {m.model_id: m for m in modelhub.installed_models(paths) if m.bundled}
    if not (PACKAGE_ROOT / "models" / modelhub.OFFLINE_MODEL / "manifest.json").is_file():
        pytest.skip("no clipdesk-imagenet bundle in this checkout")
    assert list(shipped)[:2] == [modelhub.OFFLINE_MODEL, modelhub.DEMO_MODEL]
    assert modelhub.choose_model(paths).model_id == modelhub.OFFLINE_MODEL
