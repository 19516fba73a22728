"""Per-thread capture of stdout/stderr, so that concurrent work never interleaves its output.

While a `ThreadOutput` is installed, whatever a worker thread writes (click.echo, warnings printed deep
inside the connection code) lands in that thread's own buffer; every other thread writes through to
the real stream. The caller prints each buffer as one block when the work is done.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Iterator


class _Router(io.TextIOBase):
    def __init__(self, real, local: threading.local, which: str):
        self.real = real
        self.local = local
        self.which = which

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.real, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False if self._buffer() is not None else self.real.isatty()

    def _buffer(self) -> list[str] | None:
        return getattr(self.local, self.which, None)

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):  # click probes with bytes to find binary streams
            raise TypeError("text only")
        buffer = self._buffer()
        if buffer is None:
            return self.real.write(text)
        buffer.append(text)
        return len(text)

    def flush(self) -> None:
        if self._buffer() is None:
            self.real.flush()


class ThreadOutput:
    def __init__(self) -> None:
        self.local = threading.local()

    @contextlib.contextmanager
    def installed(self) -> Iterator[ThreadOutput]:
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = _Router(real_out, self.local, "out")  # type: ignore[assignment]
        sys.stderr = _Router(real_err, self.local, "err")  # type: ignore[assignment]
        try:
            yield self
        finally:
            sys.stdout, sys.stderr = real_out, real_err

    @contextlib.contextmanager
    def captured(self) -> Iterator[tuple[list[str], list[str]]]:
        """Inside a worker thread: collect this thread's output into (stdout, stderr) lists."""
        out: list[str] = []
        err: list[str] = []
        self.local.out, self.local.err = out, err
        try:
            yield out, err
        finally:
            self.local.out = self.local.err = None
