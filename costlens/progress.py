"""Progress of long work, for a display: how far an ingest is inside the file it loads, which step a report is on.

The library only reports `ProgressEvent`s to a callback; the CLI draws them (rich, on stderr, only when stderr
is a terminal: `show_progress`). Positions only ever grow.

Where a position comes from:
- the bytes of a file hashed (exact: the hash reads the file in 1 MiB blocks);
- the step the work is in: each step owns a slice of the file's bytes (`INGEST_STEPS`) or one unit of a
  report's steps;
- inside a step, DuckDB's progress of the statement it is running (`con.query_progress()`, polled from a
  thread while the statement runs on the main thread). A step runs several statements and nobody knows in
  advance how many, so statement k of a step fills half of what is left of the step's slice: the bar keeps
  moving and never reaches the step's end before the step does.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class ProgressEvent:
    subject: str  # the file being ingested, or "report"
    step: str  # hashing, reading, checking, inserting, done; pricing, metrics, leaks, levers, rendering, …
    done: float  # bytes of the file (whole numbers), or report steps finished plus the running one's share
    total: float  # the file's size in bytes, or the number of report steps


ProgressCallback = Callable[[ProgressEvent], None]

# Each step's slice of a file's bytes: roughly its share of the load time of a 1M-call OpenAI JSONL file
# (390 MB: hashing 1 s, reading and staging 51 s, checks 9 s, insert and accounting 32 s).
INGEST_STEPS = {"hashing": (0.0, 0.02), "reading": (0.02, 0.57), "checking": (0.57, 0.67), "inserting": (0.67, 1.0)}
# A statement whose progress falls this far below the last value seen is the step's next statement.
_NEW_STATEMENT_DROP = 0.05


def show_progress(quiet: bool = False) -> bool:
    """Draw progress only for a person watching: stderr is a terminal, not -q, not a CI job (whose log would
    keep every frame), not a dumb terminal."""
    if quiet or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Track:
    """The position of one subject (a file, a report) between 0 and `total`, moved by steps and by DuckDB's
    progress of the running statement; every change goes to the callback, in order, never backwards."""

    def __init__(
        self,
        callback: ProgressCallback,
        subject: str,
        total: float,
        *,
        whole: bool = False,
        lock: threading.Lock | None = None,
    ):
        self._callback = callback
        self.subject = subject
        self.total = total
        self._whole = whole  # positions in bytes: whole numbers
        self._lock = lock or threading.Lock()
        self.position = 0.0
        self.step_name = ""
        self._start = self._end = 0.0
        self._statements = 0  # statements of the current step seen to finish
        self._last: float | None = None  # the running statement's last progress
        self._sent: tuple[str, float] | None = None

    def step(self, name: str, start: float, end: float) -> None:
        """Enter a step that takes the position from `start` to `end` (of `total`)."""
        with self._lock:
            self.step_name, self._start, self._end = name, start, end
            self._statements, self._last = 0, None
            self._move(start)

    def within(self, fraction: float) -> None:
        """The current step is `fraction` done (known exactly, e.g. bytes hashed)."""
        with self._lock:
            self._move(self._start + (self._end - self._start) * min(max(fraction, 0.0), 1.0))

    def query(self, fraction: float | None) -> None:
        """DuckDB's progress of the running statement (None: no statement is running)."""
        with self._lock:
            if fraction is None:
                if self._last is not None:
                    self._statements, self._last = self._statements + 1, None
                return
            if self._last is not None and fraction < self._last - _NEW_STATEMENT_DROP:
                self._statements += 1
            self._last = fraction
            share = 0.5 ** (self._statements + 1)  # statement k fills half of what is left of the step
            done = 1.0 - 2.0 * share + share * min(max(fraction, 0.0), 1.0)
            self._move(self._start + (self._end - self._start) * done)

    def finish(self, step: str = "done") -> None:
        with self._lock:
            self.step_name = step
            self._move(self.total)

    def _move(self, position: float) -> None:
        position = min(max(position, self.position), self.total)
        if self._whole:
            position = float(int(position))
        if self._sent == (self.step_name, position):
            return
        self.position = position
        self._sent = (self.step_name, position)
        self._callback(
            ProgressEvent(self.subject, self.step_name, int(position) if self._whole else position, self.total)
        )


class FileProgress:
    """In-file progress of an ingest run: the file being loaded now, in bytes (INGEST_STEPS)."""

    def __init__(self, callback: ProgressCallback):
        self._callback = callback
        self._lock = threading.Lock()
        self.current: Track | None = None

    def begin(self, path: str, size: int) -> Track:
        track = Track(self._callback, path, size, whole=True, lock=self._lock)
        self.current = track
        self.step(track, "hashing")
        return track

    def step(self, track: Track | None, name: str) -> None:
        if track is not None:
            track.step(name, *(track.total * share for share in INGEST_STEPS[name]))

    def hashed(self, track: Track, done: int) -> None:
        track.within(done / track.total if track.total else 1.0)

    def query(self, fraction: float | None) -> None:
        track = self.current
        if track is not None:
            track.query(fraction)

    def finish(self, path: str, size: int) -> None:
        """The file is done (loaded, unchanged or failed): all its bytes are behind."""
        track = self.current if self.current is not None and self.current.subject == path else None
        if track is None:  # a file of a batch: loaded after the next files were hashed
            track = Track(self._callback, path, size, whole=True, lock=self._lock)
        if self.current is track:
            self.current = None
        track.finish()


class StepProgress:
    """A report's named steps, one unit each; DuckDB's progress moves the bar inside the running step."""

    def __init__(self, callback: ProgressCallback, subject: str, steps: tuple[str, ...]):
        self.steps = steps
        self._track = Track(callback, subject, float(len(steps)))

    def step(self, name: str) -> None:
        index = self.steps.index(name)
        self._track.step(name, float(index), float(index + 1))

    def query(self, fraction: float | None) -> None:
        self._track.query(fraction)

    def finish(self) -> None:
        self._track.finish()


class QueryPoller:
    """Polls DuckDB's progress of the statement running on `con` from a thread, every `interval` seconds,
    while the main thread runs statements; hands each reading (0..1, None when idle) to `on_fraction`.
    DuckDB tracks progress only with its progress bar on: it is switched on for the duration with its
    printing off (it would print to stdout), and off again after."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, on_fraction: Callable[[float | None], None], interval: float = 0.1
    ):
        self._con = con
        self._on_fraction = on_fraction
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> QueryPoller:
        self._con.execute("SET enable_progress_bar_print = false")
        self._con.execute("SET enable_progress_bar = true")
        self._thread = threading.Thread(target=self._run, name="costlens-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self._con.execute("SET enable_progress_bar = false")
        except Exception:  # an interrupted or failed connection: the error in flight is the one that matters
            pass

    def poll_once(self) -> None:
        try:
            value = self._con.query_progress()
        except Exception:  # the connection is closing: nothing to show
            return
        self._on_fraction(None if value is None or value < 0 else min(float(value), 100.0) / 100.0)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.poll_once()
