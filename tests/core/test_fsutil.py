"""The one atomic write: new content or old content, never half, never a leftover."""

from __future__ import annotations

import os
import stat

import pytest

from clipdesk.core.fsutil import atomic_path, atomic_write


def _leftovers(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def test_atomic_write_replaces_content_and_keeps_the_files_mode(tmp_path):
    dest = tmp_path / "settings.json"
    dest.write_bytes(b"old")
    dest.chmod(0o640)
    atomic_write(dest, b"new")
    assert dest.read_bytes() == b"new"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    dest = tmp_path / "photo.jpg.xmp"
    atomic_write(dest, lambda f: f.write(b"<x/>"))
    old = os.umask(0o022)
    os.umask(old)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o666 & ~old
    assert dest.read_bytes() == b"<x/>"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    dest = tmp_path / "index.manifest.json"
    dest.write_bytes(b"intact")

    def writer(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(dest, writer)
    assert dest.read_bytes() == b"intact"
    assert _leftovers(tmp_path) == []


def test_atomic_path_hands_out_a_file_name_in_the_same_folder(tmp_path):
    dest = tmp_path / "m.hnsw"
    with atomic_path(dest) as tmp:
        assert tmp.parent == tmp_path and tmp != dest
        tmp.write_bytes(b"graph")
        assert not dest.exists()
    assert dest.read_bytes() == b"graph"
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_an_oserror_with_nothing_written(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OSError):
            atomic_write(folder / "x", b"data")
    finally:
        folder.chmod(0o700)
    assert os.listdir(folder) == []
