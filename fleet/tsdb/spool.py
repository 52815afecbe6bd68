"""Append-only disk spool of SeriesPoints: JSON-lines segments, fsync on append, replay in order.

Files in the spool folder: ``<n>.jsonl`` segments (one point per line, numbered in write order) and
``<n>.done`` beside a segment being replayed (the byte offset up to which the store accepted it,
replaced atomically). A segment is deleted only after the store accepted all of it; a crash mid-replay
replays from the last offset again, which both stores absorb (same series, field and time overwrite).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleet.tsdb.base import from_ms, to_ms
from twins.series import SeriesPoint

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".jsonl"
OFFSET_SUFFIX = ".done"
READ_BLOCK = 1 << 20
LOCK_NAME = ".lock"


class SpoolInUseError(RuntimeError):
    """Another writer (this or another process) already owns the spool folder."""


def encode_point(point: SeriesPoint) -> bytes:
    """One JSON line for a point (types kept: JSON tells 1 from 1.0 and true from 1)."""
    doc = {"m": point.measurement, "t": dict(point.tags), "f": dict(point.fields), "ts": to_ms(point.ts)}
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


def decode_point(line: bytes) -> SeriesPoint:
    """The point of one JSON line (ValueError/KeyError/TypeError if the line is damaged)."""
    doc = json.loads(line)
    return SeriesPoint(measurement=doc["m"], tags=doc["t"], fields=doc["f"], ts=from_ms(int(doc["ts"])))


@dataclass(frozen=True, slots=True)
class Chunk:
    """Points read from a segment, and the offset just past them."""

    segment: int
    points: list[SeriesPoint]
    end_offset: int
    lines: int
    damaged: int


class Spool:
    """The segments of one spool folder. Not thread-safe: the writer serialises calls with its lock."""

    def __init__(self, folder: Path, *, segment_bytes: int = 16 << 20) -> None:
        """Open ``folder`` (created if missing) and count what earlier runs left in it."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = self._take_lock()
        self.segment_bytes = segment_bytes
        segments = self._segments()
        self._next = (segments[-1] + 1) if segments else 1
        self._active: int | None = None
        self._fd: int | None = None
        self.pending = sum(self._count_lines(n, self._offset(n)) for n in segments)
        self.bytes = sum(self._path(n).stat().st_size - self._offset(n) for n in segments)

    def _take_lock(self) -> int:
        """Own the folder exclusively: two writers appending to one spool would corrupt each other."""
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SpoolInUseError(
                f"TSDB spool folder {self.folder} is in use by another writer (pid {holder}); "
                "give each process its own data folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd

    # -- paths and bookkeeping ----------------------------------------------------------------------
    def _path(self, n: int) -> Path:
        return self.folder / f"{n:012d}{SEGMENT_SUFFIX}"

    def _offset_path(self, n: int) -> Path:
        return self.folder / f"{n:012d}{OFFSET_SUFFIX}"

    def _segments(self) -> list[int]:
        """Segment numbers on disk, oldest first."""
        return sorted(int(p.name[: -len(SEGMENT_SUFFIX)]) for p in self.folder.glob(f"*{SEGMENT_SUFFIX}"))

    def _offset(self, n: int) -> int:
        """Bytes of segment ``n`` already accepted by the store."""
        try:
            return int(self._offset_path(n).read_text())
        except (OSError, ValueError):
            return 0

    def _count_lines(self, n: int, offset: int) -> int:
        """Points in segment ``n`` after ``offset``, counted block by block (bounded memory)."""
        count = 0
        with self._path(n).open("rb") as f:
            f.seek(offset)
            while block := f.read(READ_BLOCK):
                count += block.count(b"\n")
        return count

    def _fsync_dir(self) -> None:
        """Make file creations, renames and deletions in the folder durable."""
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- appending --------------------------------------------------------------------------------
    def append(self, points: Sequence[SeriesPoint]) -> None:
        """Append points to the active segment and fsync before returning (OSError if the disk fails)."""
        if not points:
            return
        data = b"".join(encode_point(p) for p in points)
        if self._active is None:
            self._active = self._next
            self._next += 1
            self._fd = os.open(self._path(self._active), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._fsync_dir()
        fd = self._fd
        assert fd is not None
        size_before = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError:
            # Cut a half-written batch off again (e.g. disk full), so the next append starts on a clean line.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size_before)
            raise
        self.pending += len(points)
        self.bytes += len(data)
        if os.fstat(fd).st_size >= self.segment_bytes:
            self.seal()

    def seal(self) -> None:
        """Close the active segment; the next append starts a new one."""
        if self._fd is not None:
            os.close(self._fd)
        self._active = None
        self._fd = None

    # -- replaying --------------------------------------------------------------------------------
    def oldest(self) -> int | None:
        """The oldest segment to replay, sealing the active one if it is the only one left."""
        segments = self._segments()
        if not segments:
            return None
        if segments[0] == self._active:
            self.seal()
        return segments[0]

    def read(self, n: int, max_points: int) -> Chunk:
        """Up to ``max_points`` points of sealed segment ``n`` from its replay offset."""
        offset = self._offset(n)
        points: list[SeriesPoint] = []
        lines = damaged = 0
        with self._path(n).open("rb") as f:
            f.seek(offset)
            while len(points) < max_points:
                line = f.readline()
                if not line:
                    break
                offset += len(line)
                if not line.endswith(b"\n"):
                    # A torn append from a crash: it was never acknowledged as durable, so drop it.
                    log.warning("spool %s: dropping a torn last line (%d bytes)", self._path(n).name, len(line))
                    damaged += 1
                    continue
                lines += 1
                try:
                    points.append(decode_point(line))
                except (ValueError, KeyError, TypeError) as err:
                    log.error("spool %s: dropping a damaged line: %s", self._path(n).name, err)
                    damaged += 1
        return Chunk(segment=n, points=points, end_offset=offset, lines=lines, damaged=damaged)

    def commit(self, chunk: Chunk) -> None:
        """Record that the store accepted ``chunk``; delete its segment once fully replayed."""
        before = self._offset(chunk.segment)
        path = self._path(chunk.segment)
        done = self._offset_path(chunk.segment)
        if chunk.end_offset >= path.stat().st_size:
            path.unlink()
            done.unlink(missing_ok=True)
            self._fsync_dir()
        else:
            tmp = done.with_suffix(".tmp")
            tmp.write_text(str(chunk.end_offset))
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp.replace(done)
        # Only complete lines were counted in pending (a torn last line never was).
        self.pending = max(0, self.pending - chunk.lines)
        self.bytes = max(0, self.bytes - (chunk.end_offset - before))

    def close(self) -> None:
        """Close the active segment (its data is already on disk) and release the folder."""
        self.seal()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
