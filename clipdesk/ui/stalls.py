"""How long the GUI thread works without a break, measured by its own CPU time.

A :class:`StallMeter` beats on a short timer on the thread it lives in (the
GUI thread) and keeps, for every gap between two beats, the wall time and the
CPU time that thread itself spent in the gap (``time.thread_time``). A gap is
as long as the longest stretch of work the event loop did without coming back
to its timers: one event handled in one piece, or a run of queued events.

The CPU time is what the app did. Time the machine gave to other processes,
and time the GUI thread spent waiting for the GIL while a worker held it,
make a gap long in wall time but cost the GUI thread no CPU: they say how busy
the machine is, not what lands on the GUI thread, so tests judge the CPU time
(and never fail on a loaded machine), and the benchmark reports both.

Set ``CLIPDESK_LOG_STALLS=<ms>`` to log every gap of more than that many
milliseconds of the GUI thread's own CPU while the app runs.
"""

from __future__ import annotations

import logging
import os
import time

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)


class StallMeter(QObject):
    """Records (wall seconds, own CPU seconds) for each gap between beats, one
    beat every ``interval_ms`` milliseconds; logs the gaps of more than
    ``log_over_ms`` milliseconds of CPU. ``keep=False`` keeps no gaps (a meter
    that only logs, for as long as the app runs: 200 gaps a second add up)."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 5, log_over_ms: float | None = None,
                 keep: bool = True):
        super().__init__(parent)
        #: (wall seconds, the GUI thread's own CPU seconds) per gap; None when not kept.
        self.gaps: list[tuple[float, float]] | None = [] if keep else None
        self.log_over_ms = log_over_ms
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._wall = self._cpu = 0.0

    @classmethod
    def from_env(cls, parent: QObject | None = None) -> "StallMeter | None":
        """A running meter that logs gaps over ``CLIPDESK_LOG_STALLS`` ms, or None when it is unset."""
        value = os.environ.get("CLIPDESK_LOG_STALLS", "").strip()
        if not value:
            return None
        try:
            threshold = float(value)
        except ValueError:
            log.warning("CLIPDESK_LOG_STALLS=%r is not a number of milliseconds", value)
            return None
        meter = cls(parent, log_over_ms=threshold, keep=False)
        meter.start()
        return meter

    def start(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _beat(self) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        gap = (wall - self._wall, cpu - self._cpu)
        self._wall, self._cpu = wall, cpu
        if self.gaps is not None:
            self.gaps.append(gap)
        if self.log_over_ms is not None and gap[1] * 1000 > self.log_over_ms:
            log.warning("the GUI thread worked %.0f ms without a break (%.0f ms wall)", gap[1] * 1000, gap[0] * 1000)

    @property
    def worst_cpu(self) -> float:
        """The longest gap in the GUI thread's own CPU seconds (0 before two beats,
        or when gaps are not kept)."""
        return max((c for _w, c in self.gaps or ()), default=0.0)

    @property
    def worst_wall(self) -> float:
        """The longest gap in wall seconds (0 as for :attr:`worst_cpu`)."""
        return max((w for w, _c in self.gaps or ()), default=0.0)
