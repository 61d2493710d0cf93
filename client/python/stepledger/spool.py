"""Spool: a directory of append-only files holding every event Recorder accepted until the
collector acknowledged it, so a process killed (even with kill -9) loses nothing record()
accepted. Replayed at the next start with the same bytes, hence the same event ids; events the
collector had already stored come back as duplicates and are written once.

Layout (one writer per directory, held by an flock on LOCK):
  seg-<n>.log   records: 4-byte length, 4-byte CRC-32 of the event, the serialized StepEvent
  seg-<n>.ack   8-byte offsets (into seg-<n>.log) of records the collector acknowledged
A segment is deleted once it is no longer written and all its records are acknowledged. Each
start writes to a new segment, so a record torn by a kill mid-write (never reported accepted:
record() had not returned) is only ever at the end of an old segment, where replay stops.

Durability: records are handed to the kernel with one write() before record() returns, which
survives the process dying. Surviving a power loss needs fsync=True (one fsync per record).

Thread safety: all methods are thread-safe.
"""
import fcntl
import os
import re
import struct
import threading
import zlib

_HEADER = struct.Struct("<II")
_OFFSET = struct.Struct("<Q")
_SEGMENT = re.compile(r"^seg-(\d{12})\.log$")


class SpoolLockedError(RuntimeError):
    pass


class _Segment:
    def __init__(self, number, total=0, acked=None):
        self.number = number
        self.total = total
        self.acked = acked if acked is not None else set()


class Spool:
    def __init__(self, directory, fsync=False, segment_bytes=8 * 1024 * 1024):
        self.directory = directory
        self._fsync = fsync
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)
        self._lock_fd = os.open(os.path.join(directory, "LOCK"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            raise SpoolLockedError(f"spool directory {directory} is in use by another "
                                   "process (one Recorder per spool directory)") from None
        self._segments = {}
        self._replay = []
        self._current = None
        self._fd = -1
        self._size = 0
        self._closed = False
        self._load()
        self._open_segment(max(self._segments, default=0) + 1)

    def _path(self, number, ext):
        return os.path.join(self.directory, f"seg-{number:012d}.{ext}")

    def _load(self):
        for name in sorted(os.listdir(self.directory)):
            match = _SEGMENT.match(name)
            if not match:
                continue
            number = int(match.group(1))
            with open(self._path(number, "log"), "rb") as f:
                data = f.read()
            acked = set()
            if os.path.exists(self._path(number, "ack")):
                with open(self._path(number, "ack"), "rb") as f:
                    raw = f.read()
                # A torn last offset (kill mid-write) is ignored: that record is replayed.
                for i in range(0, len(raw) - len(raw) % 8, 8):
                    acked.add(_OFFSET.unpack_from(raw, i)[0])
            segment = _Segment(number)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, crc = _HEADER.unpack_from(data, offset)
                start = offset + _HEADER.size
                event = data[start:start + length]
                if len(event) < length or zlib.crc32(event) != crc:
                    break  # torn or damaged tail: the rest was never reported accepted
                segment.total += 1
                if offset in acked:
                    segment.acked.add(offset)
                else:
                    self._replay.append(((number, offset), event))
                offset = start + length
            self._segments[number] = segment
            self._delete_if_done(segment)

    def replay(self):
        """The unacknowledged events found at start, as [(ref, bytes)] in the order written.
        Returned once; later calls return []."""
        with self._lock:
            out, self._replay = self._replay, []
            return out

    def append(self, event_bytes):
        """Writes one serialized event; returns its ref for ack()."""
        record = _HEADER.pack(len(event_bytes), zlib.crc32(event_bytes)) + event_bytes
        with self._lock:
            if self._closed:
                raise ValueError("spool is closed")
            if self._size >= self._segment_bytes:
                self._rotate()
            offset = self._size
            written = os.write(self._fd, record)
            while written < len(record):  # short writes are rare but allowed
                written += os.write(self._fd, record[written:])
            if self._fsync:
                os.fsync(self._fd)
            self._size += len(record)
            self._current.total += 1
            return (self._current.number, offset)

    def ack(self, refs):
        """Marks events acknowledged by the collector; deletes segments with nothing left."""
        by_segment = {}
        for number, offset in refs:
            by_segment.setdefault(number, []).append(offset)
        with self._lock:
            if self._closed:
                return
            for number, offsets in by_segment.items():
                segment = self._segments.get(number)
                if segment is None:
                    continue
                fd = os.open(self._path(number, "ack"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                             0o600)
                try:
                    os.write(fd, b"".join(_OFFSET.pack(o) for o in offsets))
                    if self._fsync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
                segment.acked.update(offsets)
                self._delete_if_done(segment)

    def pending(self):
        """Events written and not yet acknowledged, over all segments."""
        with self._lock:
            return sum(s.total - len(s.acked) for s in self._segments.values())

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._fd)
            current = self._current
            self._current = None
            self._delete_if_done(current)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)

    # REQUIRES: self._lock held.
    def _open_segment(self, number):
        self._fd = os.open(self._path(number, "log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                           0o600)
        self._size = 0
        self._current = _Segment(number)
        self._segments[number] = self._current

    # REQUIRES: self._lock held.
    def _rotate(self):
        os.close(self._fd)
        previous = self._current
        self._current = None
        self._delete_if_done(previous)
        self._open_segment(previous.number + 1)

    # REQUIRES: self._lock held (or the constructor).
    def _delete_if_done(self, segment):
        if segment is self._current or len(segment.acked) < segment.total:
            return
        for ext in ("ack", "log"):
            try:
                os.unlink(self._path(segment.number, ext))
            except FileNotFoundError:
                pass
        self._segments.pop(segment.number, None)
