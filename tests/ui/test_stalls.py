"""The stall meter counts the GUI thread's own CPU time, not time spent waiting."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer

from clipdesk.ui.stalls import StallMeter


def _busy(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_work_on_the_gui_thread_counts_and_waiting_does_not(qtbot):
    meter = StallMeter(interval_ms=5)
    meter.start()
    QTimer.singleShot(20, lambda: _busy(0.08))  # 80 ms of work in one piece
    qtbot.wait(200)
    worked = meter.worst_cpu
    assert 0.075 <= worked < 0.5
    meter.gaps.clear()
    held = threading.Event()
    QTimer.singleShot(20, lambda: held.wait(0.12))  # 120 ms of waiting (a lock, the GIL, the machine)
    qtbot.wait(250)
    meter.stop()
    assert meter.worst_wall >= 0.115
    assert meter.worst_cpu < 0.05


def test_the_environment_turns_logging_on(monkeypatch, qtbot, caplog):
    monkeypatch.delenv("CLIPDESK_LOG_STALLS", raising=False)
    assert StallMeter.from_env() is None
    monkeypatch.setenv("CLIPDESK_LOG_STALLS", "30")
    meter = StallMeter.from_env()
    QTimer.singleShot(10, lambda: _busy(0.05))
    qtbot.wait(120)
    meter.stop()
    assert any("without a break" in r.getMessage() for r in caplog.records)
