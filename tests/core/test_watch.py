import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from clipdesk.core.watch import Watcher
from support import make_photo


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_new_photo_triggers_one_debounced_reconcile(tmp_path):
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    calls = []
    w = Watcher([str(root)], lambda: calls.append(time.monotonic()), debounce_s=0.3)
    w.start()
    try:
        assert w.mode == "watching"
        for i in range(5):  # a burst: one reconcile, not five
            make_photo(root / "sub" / f"burst{i}.jpg", seed=i)
        assert wait_for(lambda: calls)
        time.sleep(0.6)
        assert len(calls) == 1
        (root / "notes.txt").write_text("not a photo")
        (root / ".hidden.jpg").write_bytes(b"x")
        time.sleep(0.6)
        assert len(calls) == 1
    finally:
        w.stop()


def test_long_copy_is_reconciled_before_it_ends(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    calls = []
    w = Watcher([str(root)], lambda: calls.append(1), debounce_s=0.5, max_delay_s=1.0)
    w.start()
    try:
        end = time.monotonic() + 2.5
        i = 0
        while time.monotonic() < end:
            (root / f"f{i}.jpg").write_bytes(b"\xff\xd8\xff" + bytes(10))
            i += 1
            time.sleep(0.1)
        assert len(calls) >= 1  # max_delay_s fired while events kept coming
    finally:
        w.stop()


def test_offline_root_coming_back_triggers_a_reconcile(tmp_path):
    root = tmp_path / "drive"
    calls = []
    w = Watcher([str(root)], lambda: calls.append(1), offline_poll_s=0.2)
    w.start()
    try:
        time.sleep(0.3)
        assert not calls
        plugged = tmp_path / "plugged"
        make_photo(plugged / "DCIM" / "a.jpg")
        plugged.rename(root)  # a drive comes back with its photos
        assert wait_for(lambda: calls)
        # And it is watched from then on.
        n = len(calls)
        make_photo(root / "new.jpg")
        assert wait_for(lambda: len(calls) > n)
    finally:
        w.stop()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_falls_back_to_polling_when_the_os_refuses_more_watches(tmp_path):
    """A user namespace of our own gets an inotify watch limit of 3."""
    if not sys.platform.startswith("linux"):
        pytest.skip("inotify limits are Linux's")
    root = tmp_path / "photos"
    for i in range(10):
        (root / f"d{i}").mkdir(parents=True)
    code = textwrap.dedent(f"""
        import time
        from clipdesk.core.watch import Watcher
        calls = []
        w = Watcher([{str(root)!r}], lambda: calls.append(1), poll_s=0.3)
        w.start()
        print(w.mode)
        print(w.reason)
        time.sleep(2.0)
        print(len(calls))
        w.stop()
    """)
    script = tmp_path / "w.py"
    script.write_text(code)
    probe = subprocess.run(["unshare", "-Ur", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not available")
    out = subprocess.run(
        ["unshare", "-Ur", "sh", "-c",
         f"echo 3 > /proc/sys/user/max_inotify_watches && exec {sys.executable} {script}"],
        capture_output=True, text=True, timeout=60,
    )
    if "max_inotify_watches" in out.stderr:
        pytest.skip(f"cannot set a per-namespace inotify limit here: {out.stderr.strip()}")
    mode, reason, calls = out.stdout.strip().splitlines()
    assert mode == "polling"
    assert "max_user_watches" in reason
    assert int(calls) >= 2  # periodic rescans took over


def test_an_unplugged_drive_leaving_an_empty_mount_point_is_noticed(tmp_path):
    """Issue 14, part 4: an empty mount point is not an online folder."""
    from clipdesk.core.watch import looks_offline

    drive = tmp_path / "media" / "card"
    make_photo(drive / "DCIM" / "a.jpg")
    assert not looks_offline(str(drive))
    calls = []
    w = Watcher([str(drive)], lambda: calls.append(1), debounce_s=0.1, offline_poll_s=0.2)
    w.start()
    try:
        parked = tmp_path / "parked"
        shutil.move(str(drive / "DCIM"), str(parked))  # what unmounting leaves: an empty folder
        assert looks_offline(str(drive))
        assert wait_for(lambda: calls)
        calls.clear()
        shutil.copytree(parked, drive / "DCIM")  # mounted again: the same files, new inodes
        assert wait_for(lambda: calls)
    finally:
        w.stop()
