import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from clipdesk.core.catalog import schema as catalog_mod
from clipdesk.core.catalog import Catalog
from clipdesk.core.errors import CatalogError, CatalogLocked, NotFound, UsageError


@pytest.fixture
def cat(tmp_path):
    c = Catalog(tmp_path / "catalog.sqlite3")
    yield c
    c.close()


def test_new_catalog_is_wal_with_current_schema(cat):
    assert cat.schema_version == catalog_mod.SCHEMA_VERSION
    assert cat.pragma("journal_mode") == "wal"
    assert cat.pragma("foreign_keys") == 1
    tables = cat.tables()
    assert {"folders", "photos", "tags", "photo_tags", "embeddings", "saved_searches"} <= tables


def test_second_instance_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path):
        with pytest.raises(CatalogLocked) as err:
            Catalog(path)
        assert "in use by another ClipDesk" in str(err.value)
        assert str(os.getpid()) in str(err.value)
    # Released on close: a new instance opens.
    Catalog(path).close()


def test_lock_of_a_killed_process_does_not_stay(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    code = textwrap.dedent(f"""
        import sys, time
        from clipdesk.core.catalog import Catalog
        c = Catalog({str(path)!r})
        print("ready", flush=True)
        time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "ready"
            with pytest.raises(CatalogLocked) as err:
                Catalog(path)
            assert str(proc.pid) in str(err.value)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    with Catalog(path) as c:
        assert c.schema_version == catalog_mod.SCHEMA_VERSION


def test_non_utf8_paths_round_trip(cat, tmp_path):
    root = cat.add_folder(tmp_path)
    raw = os.fsencode(tmp_path) + b"/caf\xe9-\xff.jpg"
    with cat.transaction():
        pid = cat.insert_photo(root.id, raw, 10, 1, None)
    p = cat.photo(pid)
    assert os.fsencode(p.path) == raw
    assert cat.photo_by_path(raw).id == pid
    assert list(cat.known_files(root.id)) == [raw]


def test_tags_links_and_counts(cat, tmp_path):
    root = cat.add_folder(tmp_path)
    with cat.transaction():
        ids = [cat.insert_photo(root.id, os.fsencode(tmp_path / f"{i}.jpg"), 1, 1, None) for i in range(3)]
    cat.set_photo_tags(ids[:2], "Beach")
    cat.set_photo_tags(ids[2:], "beach", source="auto", state="suggested", score=0.4)
    assert cat.tags() == [(cat.tag_id("beach"), "Beach", 2, False)]
    assert cat.photo_tags(ids[2]) == [("Beach", "auto", "suggested", pytest.approx(0.4))]
    # Refreshing suggestions keeps the user's decisions.
    cat.set_photo_tags(ids, "beach", source="auto", state="suggested", score=0.9, keep_decisions=True)
    assert cat.photo_tags(ids[0])[0][2] == "accepted"
    assert cat.photo_tags(ids[2])[0][3] == pytest.approx(0.9)
    with pytest.raises(NotFound):
        cat.tag_id("nothing", create=False)
    with pytest.raises(UsageError, match="visible character"):
        cat.tag_id(" \x07 ")


def test_embeddings_per_model_and_generation(cat, tmp_path):
    root = cat.add_folder(tmp_path)
    with cat.transaction():
        ids = [cat.insert_photo(root.id, os.fsencode(tmp_path / f"{i}.jpg"), 1, 1, None) for i in range(4)]
    g0 = cat.generation("m1"), cat.generation("m2")
    vecs = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    with cat.transaction():
        cat.store_embeddings("m1", ids, vecs)
        cat.store_embeddings("m2", ids[:2], vecs[:2])
    assert cat.generation("m1") > g0[0] and cat.generation("m2") > g0[1]
    got_ids, got = next(cat.iter_embeddings("m1"))
    assert got_ids.tolist() == ids and np.array_equal(got, vecs)
    assert cat.embedded_models() == {"m1": 4, "m2": 2}
    # A changed file loses its (stale) embeddings but keeps its tags.
    cat.set_photo_tags([ids[0]], "keep me")
    g1 = cat.generation("m1"), cat.generation("m2")
    with cat.transaction():
        cat.mark_changed(ids[0], 2, 2, None)
    assert cat.embedding_count("m1") == 3
    assert cat.generation("m1") > g1[0] and cat.generation("m2") > g1[1]
    with cat.transaction():
        cat.delete_photos([ids[3]])
    assert cat.generation("m2") == g1[1] + 1  # ids[3] had no m2 embedding
    assert cat.photo_tags(ids[0])[0][0] == "keep me"
    with cat.transaction():
        for i in ids[1:]:
            cat.record_decoded(i, hash_=f"h{i}", format_="jpeg", width=1, height=1,
                               taken_at=None, date_source="file", camera=None, size=1, mtime_ns=1)
    assert cat.pending_ids() == [ids[0]]
    # After a switch to m2, indexed photos without an m2 embedding are due again.
    assert cat.pending_ids("m2") == [ids[0], ids[2]]  # ids[3] was deleted above


def test_deleted_photo_hands_its_tags_to_a_twin(cat, tmp_path):
    root = cat.add_folder(tmp_path)
    with cat.transaction():
        a = cat.insert_photo(root.id, b"/x/a.jpg", 1, 1, "h1")
        b = cat.insert_photo(root.id, b"/x/b.jpg", 1, 1, "h1")
    cat.set_photo_tags([a], "holiday")
    with cat.transaction():
        cat.delete_photos([a])
    assert [t[0] for t in cat.photo_tags(b)] == ["holiday"]


def test_offline_keeps_and_restores_status(cat, tmp_path):
    root = cat.add_folder(tmp_path)
    with cat.transaction():
        a = cat.insert_photo(root.id, b"/x/a.jpg", 1, 1, "h")
        cat.record_decoded(a, hash_="h", format_="jpeg", width=1, height=1, taken_at=None,
                           date_source="file", camera=None, size=1, mtime_ns=1)
        b = cat.insert_photo(root.id, b"/x/b.jpg", 1, 1, None)
    cat.set_folder_state(root.id, "offline", "unplugged")
    assert {cat.photo(a).status, cat.photo(b).status} == {"offline"}
    cat.set_folder_state(root.id, "online")
    assert (cat.photo(a).status, cat.photo(b).status) == ("indexed", "pending")


def test_corrupt_catalog_is_reported_and_left_untouched(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    junk = b"this is not a database" * 100
    path.write_bytes(junk)
    with pytest.raises(CatalogError) as err:
        Catalog(path)
    assert "left" in str(err.value)
    assert path.read_bytes() == junk


def test_catalog_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {catalog_mod.SCHEMA_VERSION + 5}")
    con.close()
    with pytest.raises(CatalogError, match="newer ClipDesk"):
        Catalog(path)


def test_migrations_run_step_by_step_and_back_up_first(tmp_path, monkeypatch):
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as c:
        c.set_meta("kept", "yes")
    step = "ALTER TABLE photos ADD COLUMN test_only INTEGER; CREATE TABLE extra (x INTEGER)"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", [*catalog_mod.MIGRATIONS, step])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", len(catalog_mod.MIGRATIONS))
    with Catalog(path) as c:
        assert c.schema_version == catalog_mod.SCHEMA_VERSION
        cols = set(c.table_columns("photos"))
        assert "test_only" in cols
        assert c.get_meta("kept") == "yes"
    backup = path.with_name(path.name + f".bak-v{catalog_mod.SCHEMA_VERSION - 1}")
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == catalog_mod.SCHEMA_VERSION - 1


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", [*catalog_mod.MIGRATIONS, "ALTER TABLE nope ADD COLUMN x"])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", len(catalog_mod.MIGRATIONS))
    with pytest.raises(CatalogError, match="could not upgrade"):
        Catalog(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(catalog_mod.MIGRATIONS) - 1


def test_threads_get_their_own_connections(cat, tmp_path):
    import threading

    root = cat.add_folder(tmp_path)
    errors = []

    def worker(n):
        try:
            for i in range(20):
                with cat.transaction():
                    cat.insert_photo(root.id, f"/t/{n}-{i}.jpg".encode(), 1, 1, None)
                cat.counts()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cat.counts()["pending"] == 80


def test_a_full_disk_is_not_called_a_damaged_catalog(tmp_path):
    """Issue 14, part 7: on a full disk every command said the catalog could not
    be opened and should be moved aside, although it was intact."""
    import json
    import textwrap

    from support import run_with_small_disks

    data = tmp_path / "data"
    data.mkdir()
    script = textwrap.dedent(f"""
        import json, os
        from pathlib import Path
        from clipdesk.core.catalog import Catalog
        from clipdesk.core.errors import CatalogError
        data = Path({str(data)!r})
        with Catalog(data / "catalog.sqlite3") as cat:
            folder = cat.add_folder(b"/photos")
        with open(data / "filler", "wb") as f:  # fill the disk to the last block
            try:
                while True:
                    f.write(b"x" * 65536)
                    f.flush()
            except OSError:
                pass
        out = {{}}
        try:
            with Catalog(data / "catalog.sqlite3") as cat:
                out["roots"] = len(cat.roots())
                with cat.transaction():
                    for i in range(5000):
                        cat.insert_photo(folder.id, b"/photos/%d.jpg" % i, 1, 1, None)
        except CatalogError as exc:
            out["error"] = str(exc)
        os.remove(data / "filler")
        with Catalog(data / "catalog.sqlite3") as cat:
            out["after"] = len(cat.roots())
        print(json.dumps(out))
    """)
    done = run_with_small_disks(script, {data: "size=600k"}, tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "full" in out["error"] and "intact" in out["error"] and "move it aside" not in out["error"]
    assert out["after"] == 1


def test_a_read_only_catalog_folder_says_what_to_do(tmp_path):
    import json
    import textwrap

    from support import run_with_small_disks

    data = tmp_path / "data"
    data.mkdir()
    script = textwrap.dedent(f"""
        import json, subprocess
        from pathlib import Path
        from clipdesk.core.catalog import Catalog
        from clipdesk.core.errors import CatalogError
        data = Path({str(data)!r})
        Catalog(data / "catalog.sqlite3").close()
        subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True)
        try:
            Catalog(data / "catalog.sqlite3", lock=False)
            print(json.dumps({{"error": None}}))
        except CatalogError as exc:
            print(json.dumps({{"error": str(exc)}}))
    """)
    done = run_with_small_disks(script, {data: "size=1m"}, tmp_path)
    assert done.returncode == 0, done.stderr
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert error and "read-only" in error and "intact" in error and "move it aside" not in error


def test_the_timeline_s_month_counts_read_an_index_not_every_photo(tmp_path):
    """Schema 5: month_counts is one GROUP BY that SQLite answers from the
    photos_month index (no sort of the whole table)."""
    import sqlite3

    from clipdesk.core.catalog import Catalog

    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        assert cat.month_counts() == []
    plan = sqlite3.connect(path).execute(
        "EXPLAIN QUERY PLAN SELECT substr(taken_at, 1, 7) AS month, COUNT(*) FROM photos WHERE 1 "
        "GROUP BY month ORDER BY month DESC").fetchall()
    assert any("photos_month" in row[-1] for row in plan) and not any("TEMP B-TREE" in row[-1] for row in plan)
