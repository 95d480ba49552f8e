"""The model service: the active model's index is saved, loaded, rebuilt; the
demo model is reported as such."""


from clipdesk.core.library import Library
from colourkit import write_colour_bundle
from support import hit_names as names


def test_index_is_saved_and_loaded_not_rebuilt(colour_library, paths):
    lib, _ = colour_library
    lib.close()
    with Library(paths) as again:
        index = again.models.index()
        assert not index.rebuilding and len(index) == 61
        assert sorted(names(again.search.query("blue"))[:6]) == sorted(
            [f"blue{i}.jpg" for i in range(5)] + ["blue-png.png"])

def test_damaged_index_is_rebuilt_from_the_catalog(colour_library, paths):
    lib, _ = colour_library
    lib.close()
    for f in paths.index_dir.iterdir():
        if f.suffix == ".bin" or "hnsw" in f.name:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with Library(paths) as again:
        index = again.models.index()
        for _ in range(200):
            if not index.rebuilding:
                break
            import time
            time.sleep(0.05)
        assert len(index) == 61
        assert sorted(names(again.search.query("red"))[:5]) == [f"red{i}.jpg" for i in range(5)]

def test_demo_model_status_when_only_the_bundled_model_exists(paths, monkeypatch, tmp_path):
    bundled = tmp_path / "bundled"
    write_colour_bundle(bundled / "tiny-demo")
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(bundled))
    with Library(paths) as lib:
        st = lib.models.status()
        assert st.is_demo and st.model_id == "tiny-demo" and "Demo model" in st.message
        assert st.recommended
    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setenv("CLIPDESK_MODELS_DIR", str(empty))
    with Library(paths) as lib:
        st = lib.models.status()
        assert st.model_id is None and "No model" in st.message
