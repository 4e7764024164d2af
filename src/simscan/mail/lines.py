"""Lines of a binary file, read in big chunks, never the whole file at once.

A line ends at LF, CRLF or a lone CR: mail clients and Python's email
package all take a bare CR as a line end, and qmail-smtpd passes it
through.  A CRLF is never split between two pieces.

Long lines come out in pieces of at most `limit` bytes, each flagged with
whether it starts a line.  `skip()` jumps to the next line that starts with
one of a few prefixes using bytes.find, so a 50 MB base64 attachment is
passed over at memory speed instead of one Python loop turn per line.
"""

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

CHUNK = 1 << 20
_CR = 0x0D
_LF = 0x0A


class LineReader:
    __slots__ = ("at_start", "buf", "chunk", "cr", "eof", "f", "hits", "limit", "pos")

    def __init__(self, f: "BinaryIO", limit: int = 65536, chunk: int = CHUNK) -> None:
        self.f = f
        self.limit = limit
        self.chunk = chunk
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.at_start = True
        # needle -> where it next occurs in buf at or after the position it
        # was searched from (-1: nowhere), so that a run of lines that match
        # one prefix does not rescan the buffer for the other each time.
        self.hits: dict[bytes, tuple[int, int]] = {}
        self.cr = False  # is there a CR in buf? (most mail has none)

    def _fill(self) -> None:
        data = self.f.read(self.chunk)
        if not data:
            self.eof = True
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        self.hits = {}
        self.cr = b"\r" in self.buf

    def _next(self, needles: list[bytes]) -> int:
        """Where the first of `needles` next occurs in buf from pos, or -1."""
        best = -1
        for needle in needles:
            hit = self._find(needle)
            if hit >= 0 and (best < 0 or hit < best):
                best = hit
        return best

    def _find(self, needle: bytes) -> int:
        """Where `needle` next occurs in buf from pos, or -1 (cached)."""
        pos = self.pos
        cached = self.hits.get(needle)
        if cached is not None and cached[0] <= pos and (cached[1] < 0 or cached[1] >= pos):
            return cached[1]
        hit = self.buf.find(needle, pos)
        self.hits[needle] = (pos, hit)
        return hit

    def _cut(self, end: int) -> int:
        """`end`, moved past an LF that completes a CRLF before it."""
        buf = self.buf
        if end < len(buf) and buf[end - 1] == _CR and buf[end] == _LF:
            return end + 1
        return end

    def _move(self, end: int) -> None:
        self.pos = end
        last = self.buf[end - 1]
        self.at_start = last in (_LF, _CR)

    def piece(self) -> tuple[bytes, bool] | None:
        """(the next line or piece of a long line, whether it starts a
        line), or None at the end of the file."""
        while True:
            buf, pos = self.buf, self.pos
            stop = pos + self.limit
            nl = self._find(b"\n")  # cached: a run of CR lines reads it once
            if nl >= stop:
                nl = -1
            cr = buf.find(b"\r", pos, nl if nl >= 0 else stop)
            if cr >= 0:
                if cr + 1 == len(buf) and not self.eof:
                    self._fill()  # a CR at the end: is an LF next?
                    continue
                end = cr + 2 if cr + 1 < len(buf) and buf[cr + 1] == _LF else cr + 1
            elif nl >= 0:
                end = nl + 1
            elif len(buf) - pos >= self.limit:
                end = self._cut(stop)
            elif not self.eof:
                self._fill()
                continue
            elif pos < len(buf):
                end = len(buf)
            else:
                return None
            start = self.at_start
            self._move(end)
            return buf[pos:end], start

    def skip(self, prefixes: tuple[bytes, ...]) -> None:
        """Move to the start of the next line that begins with one of
        `prefixes` (the current one counts), or to the end of the file."""
        if not prefixes:
            while not self.eof:
                self._fill()
            self.pos = len(self.buf)
            return
        lf = [b"\n" + p for p in prefixes]
        keep = max(len(n) for n in lf)
        while True:
            buf, pos = self.buf, self.pos
            needles = lf + [b"\r" + p for p in prefixes] if self.cr else lf
            if self.at_start:
                if len(buf) - pos < keep and not self.eof:
                    self._fill()
                    continue
                if buf.startswith(prefixes, pos):
                    return
            found = self._next(needles)
            if found >= 0:
                self.pos = found + 1
                self.at_start = True
                return
            if self.eof:
                self.pos = len(buf)
                return
            # Keep a tail that may hold the start of a needle.
            new = max(pos, len(buf) - keep)
            if new > pos:
                self._move(new)
                if buf[new - 1] == _CR and buf[new] == _LF:
                    self.at_start = False  # mid CRLF: the LF ends that line
            self._fill()

    def until(self, prefixes: tuple[bytes, ...]) -> bytes | None:
        """The bytes from here up to the next line that starts with one of
        `prefixes` (or a chunk's worth of them, or up to the end of the
        file when `prefixes` is empty); b"" when the current line is such a
        line, None at the end of the file."""
        lf = [b"\n" + p for p in prefixes]
        keep = max((len(n) for n in lf), default=1)
        while True:
            buf, pos = self.buf, self.pos
            needles = lf + [b"\r" + p for p in prefixes] if self.cr else lf
            if len(buf) - pos <= keep and not self.eof:
                self._fill()
                continue
            if pos >= len(buf):
                return None
            if self.at_start and prefixes and buf.startswith(prefixes, pos):
                return b""
            found = self._next(needles)
            if found >= 0:
                end = found + 1
            elif self.eof:
                end = len(buf)
            else:
                end = self._cut(len(buf) - keep)
            self._move(end)
            return buf[pos:end]
