"""Named fail points of the output code, for the fault-injection tests.

``CLINICAL_IE_ANNOTATE_FAIL_AT=POINT`` or ``POINT:N`` makes the process writing an output
folder die with ``os._exit(FAIL_EXIT_STATUS)`` (no cleanup, no ``finally``: as if killed) at
``POINT`` of the ``N``-th shard it commits (default the first); ``disk-full`` raises ``ENOSPC``
there instead. Only the output code (:mod:`.output`) reads the variable: when it is unset,
nothing changes. :data:`FAIL_POINTS` is the one list of the points, in the order a shard
passes them.
"""

import errno
import os
from typing import BinaryIO, NoReturn, Optional

FAIL_AT_ENV = "CLINICAL_IE_ANNOTATE_FAIL_AT"
FAIL_EXIT_STATUS = 86
"""Exit status of a process killed at a fail point (no other path of the command uses it)."""

FAIL_POINTS = {
    "before-shard": "a shard's records are all in memory, nothing of it written",
    "after-database-commit": "note_nlp with a database: the shard's rows are committed to it, its file not yet written",
    "mid-shard": "the shard's .partial file holds part of its bytes (the JSON Lines, Parquet or FHIR NDJSON write)",
    "after-shard-rename": "the shard's file is in place, the manifest does not list it",
    "mid-brat": "--brat: the shard's first brat .txt is in place, its .ann half written (.ann.partial)",
    "mid-manifest": "manifest.json.partial, listing the shard, is half written; manifest.json is the previous one",
    "after-manifest": "the manifest lists the shard (the shard is committed)",
    "before-exit": "every shard of the run is committed, the output folder not yet closed (the process's exit)",
    "disk-full": "raises OSError(ENOSPC) in the middle of the shard's write, as a full disk does (no exit)",
}
MID_WRITE_POINTS = ("mid-shard", "mid-brat", "mid-manifest", "disk-full")
DATABASE_POINTS = ("after-database-commit",)
"""Points only a ``note_nlp`` run that writes into a database passes."""
"""Points that fire inside a write: part of the bytes reach the file, then the point fires."""


class FailPoints:
    """The fail point this process was started with (none: every method does nothing)."""

    def __init__(self, spec: Optional[str] = None):
        self.point, self.at_shard, self.shards = None, 1, 0
        if spec:
            point, _, shard = spec.partition(":")
            if point not in FAIL_POINTS or (shard and not (shard.isdigit() and int(shard) >= 1)):
                raise ValueError(f"{FAIL_AT_ENV}={spec!r}: expected POINT or POINT:N (N >= 1), POINT one of {', '.join(FAIL_POINTS)}")
            self.point, self.at_shard = point, int(shard or 1)

    @classmethod
    def from_environment(cls) -> "FailPoints":
        return cls(os.environ.get(FAIL_AT_ENV))

    def begin_shard(self) -> None:
        """A shard's commit begins: the next points belong to it."""
        self.shards += 1

    def armed(self, point: str) -> bool:
        """Whether ``point`` fires now (``before-exit`` whatever the shard)."""
        return point == self.point and (point == "before-exit" or self.shards == self.at_shard)

    def reached(self, point: str) -> None:
        """Die here if ``point`` is armed."""
        if self.armed(point):
            fire(point)

    def writer(self, handle: BinaryIO, *points: str) -> BinaryIO:
        """``handle``, or, with one of ``points`` armed, a handle that fires it in the middle of its first write."""
        armed = [point for point in points if self.armed(point)]
        return _MidWrite(handle, armed[0]) if armed else handle


def fire(point: str) -> NoReturn:
    """Raise ENOSPC (``disk-full``) or end the process at once."""
    if point == "disk-full":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os._exit(FAIL_EXIT_STATUS)


class _MidWrite:
    """A binary file whose first write puts half its bytes on disk, then fires the point."""

    def __init__(self, handle: BinaryIO, point: str):
        self._handle, self._point = handle, point

    def write(self, data) -> NoReturn:
        data = bytes(data)
        self._handle.write(data[: max(1, len(data) // 2)])
        self._handle.flush()
        os.fsync(self._handle.fileno())
        fire(self._point)

    def __getattr__(self, name):
        return getattr(self._handle, name)
