"""The SPAMD protocol (spamd(1), the one spamc speaks), and spamc's options.

A PROCESS request is

    PROCESS SPAMC/1.5\\r\\n
    Content-length: <bytes>\\r\\n
    User: <name>\\r\\n            (optional: per-user preferences)
    \\r\\n
    <the message>

and the answer

    SPAMD/1.1 0 EX_OK\\r\\n
    Content-length: <bytes>\\r\\n
    Spam: True ; 1002.7 / 5.0\\r\\n
    \\r\\n
    <the processed message: X-Spam-* headers, maybe a report>

A code other than 0 is spamd refusing (76 EX_PROTOCOL, 74 EX_IOERR, ...).
The processed message is streamed into a file, never held whole.

No policy here: simscan.spam decides what a score means.
"""

from .netio import Deadline, Endpoint, read_until, send_all, send_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket as _socket
    from collections.abc import Callable
    from io import FileIO
else:
    import _socket

DEFAULT_PORT = 783
CHUNK = 256 * 1024
MAX_HEAD = 16 * 1024  # the answer's status line and headers


class ProtocolError(Exception):
    """spamd said something that is not a SPAMD answer, or said it wrong."""


class Answer:
    """A parsed PROCESS answer: spamd's verdict, the body's length."""

    __slots__ = ("length", "required", "score", "spam")

    def __init__(self, spam: bool, score: float, required: float, length: int) -> None:
        self.spam = spam
        self.score = score
        self.required = required
        self.length = length

    def __repr__(self) -> str:
        return f"Answer(spam={self.spam}, {self.score}/{self.required}, {self.length} bytes)"


def request_head(size: int, user: bytes | None) -> bytes:
    head = b"PROCESS SPAMC/1.5\r\nContent-length: %d\r\n" % size
    # A header line: no line breaks may get through, and spamd refuses a
    # User header with any other control byte (76 Bad header line).
    user = user.translate(None, _CONTROLS) if user else b""
    if user:
        head += b"User: " + user + b"\r\n"
    return head + b"\r\n"


_CONTROLS = bytes(range(32))


def process(
    sock: "_socket.socket",
    message: "FileIO",
    size: int,
    user: bytes | None,
    write: "Callable[[bytes | memoryview], object]",
    deadline: Deadline,
) -> Answer:
    """Send the message with PROCESS; the processed message goes to `write`.

    ProtocolError for an answer that is not right (spamd's own error codes
    included); OSError/TimeoutError from the socket.
    """
    send_all(sock, request_head(size, user), deadline)
    if not send_file(sock, message, size, deadline, CHUNK):
        raise ProtocolError("the message file is shorter than its size")
    view = memoryview(bytearray(CHUNK))
    # End of request, as spamc says it: spamd reads the message by lines,
    # and without this waits (5 minutes) for a last line's newline.
    sock.shutdown(_socket.SHUT_WR)
    head, body = _read_head(sock, deadline)
    answer = parse_head(head)
    if len(body) > answer.length:
        raise ProtocolError("more body than its Content-length")
    write(body)
    got = len(body)
    while got < answer.length:
        sock.settimeout(deadline.left())
        n = sock.recv_into(view[: min(CHUNK, answer.length - got)])
        if not n:
            raise ProtocolError(f"answer cut short at {got} of {answer.length} bytes")
        write(view[:n])
        got += n
    return answer


def ping(sock: "_socket.socket", deadline: Deadline) -> bytes:
    """PING: spamd's answer line, `SPAMD/1.5 0 PONG`; ProtocolError for
    any other answer."""
    send_all(sock, b"PING SPAMC/1.5\r\n\r\n", deadline)
    line = read_until(sock, b"\n", deadline).strip()  # one line, then spamd hangs up
    words = line.split()
    if len(words) != 3 or not words[0].startswith(b"SPAMD/") or words[1:] != [b"0", b"PONG"]:
        raise ProtocolError(f"unexpected PING answer {line[:200]!r}")
    return line


def _read_head(sock: "_socket.socket", deadline: Deadline) -> tuple[bytes, bytes]:
    """The answer's head (up to the blank line) and the body bytes read
    with it.  Not netio.read_until: spamd writes head and body in one
    buffer, so the head is rarely at the end of what a recv gives."""
    data = b""
    while True:
        at = data.find(b"\r\n\r\n")
        if at >= 0:
            return data[:at], data[at + 4 :]
        if len(data) > MAX_HEAD:
            raise ProtocolError(f"answer head longer than {MAX_HEAD} bytes")
        sock.settimeout(deadline.left())
        got = sock.recv(65536)
        if not got:
            # spamd's refusals are a status line and a hang-up
            _check_status(data.partition(b"\r\n")[0])
            raise ProtocolError("answer cut short in its head")
        data += got


def _check_status(line: bytes) -> None:
    status = line.split(None, 2)
    if len(status) < 2 or not status[0].startswith(b"SPAMD/"):
        shown = line[:100].decode("ascii", "replace")
        raise ProtocolError(f"unexpected answer {shown!r}" if line else "no answer")
    if status[1] != b"0":
        text = b" ".join(status[1:])[:100].decode("ascii", "replace")
        raise ProtocolError(f"refused the request ({text})")


def parse_head(head: bytes) -> Answer:
    """The status line and headers of a PROCESS answer."""
    lines = head.split(b"\r\n")
    _check_status(lines[0])
    fields: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ProtocolError(f"bad header line {line[:100]!r}")
        fields[name.strip().lower()] = value.strip()
    length = fields.get(b"content-length", b"")
    if not length.isdigit():
        raise ProtocolError("answer without a Content-length")
    spam = fields.get(b"spam")
    if spam is None:
        raise ProtocolError("answer without a Spam header")
    flagged, score, required = parse_spam_header(spam)
    return Answer(flagged, score, required, int(length))


def parse_spam_header(value: bytes) -> tuple[bool, float, float]:
    """`True ; 1002.7 / 5.0` -> (True, 1002.7, 5.0)."""
    flag, semi, numbers = value.partition(b";")
    score, slash, required = numbers.partition(b"/")
    flag = flag.strip().lower()
    if not semi or not slash or flag not in (b"true", b"false", b"yes", b"no"):
        raise ProtocolError(f"bad Spam header {value[:100]!r}")
    try:
        return flag in (b"true", b"yes"), float(score), float(required)
    except ValueError:
        raise ProtocolError(f"bad Spam header {value[:100]!r}") from None


def status_from_headers(head: bytes) -> tuple[bool, float, float] | None:
    """What SpamAssassin wrote into a processed message's header (spamc's
    output): X-Spam-Flag / X-Spam-Status `Yes, score=7.1 required=5.0`
    (`hits=` in old versions).  None when the message carries no
    X-Spam-Status (spamc could not reach spamd and gave the message back
    as it was)."""
    flag = False
    status = b""
    in_status = False  # on the lines of the (first) X-Spam-Status
    for line in head.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if in_status:
                status = (status + b" " + line.strip()).lstrip()
            continue
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        in_status = name == b"x-spam-status" and not status
        if name == b"x-spam-flag":
            flag = flag or value.strip().upper() == b"YES"
        elif in_status:
            status = value.strip()
    if not status:
        return None
    flag = flag or status[:3].lower() == b"yes"
    score = _number_after(status, (b"score=", b"hits="))
    required = _number_after(status, (b"required=",))
    if score is None or required is None:
        return None
    return flag, score, required


def _number_after(text: bytes, keys: tuple[bytes, ...]) -> float | None:
    for key in keys:
        at = text.find(key)
        if at < 0:
            continue
        start = at + len(key)
        end = start
        while end < len(text) and text[end : end + 1] in b"+-.0123456789" and text[end : end + 1]:
            end += 1
        try:
            return float(text[start:end])
        except ValueError:
            return None
    return None


def split_args(args: str) -> list[str]:
    """spamc_args split as a shell would (quotes, backslashes), without
    importing shlex (and re) for every message."""
    words: list[str] = []
    word: list[str] = []
    have = False
    quote = ""
    i = 0
    while i < len(args):
        c = args[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                word.append(c)
        elif quote == '"':
            if c == '"':
                quote = ""
            elif c == "\\" and i + 1 < len(args) and args[i + 1] in '"\\$`':
                i += 1
                word.append(args[i])
            else:
                word.append(c)
        elif c in "'\"":
            quote, have = c, True
        elif c == "\\" and i + 1 < len(args):
            i += 1
            word.append(args[i])
            have = True
        elif c in " \t\n":
            if have or word:
                words.append("".join(word))
            word, have = [], False
        else:
            word.append(c)
            have = True
        i += 1
    if quote:
        raise ValueError(f"unclosed {quote} in spamc_args")
    if have or word:
        words.append("".join(word))
    return words


class SpamcOptions:
    """What simscan takes from spamc's own options: where spamd is
    (`-U path`, `-d host[,host]`, `-p port`), `-x` (no safe fallback) and
    `-u user` (the default user for per-user preferences)."""

    __slots__ = ("endpoints", "strict", "user")

    def __init__(self, endpoints: list[Endpoint], strict: bool, user: str = "") -> None:
        self.endpoints = endpoints
        self.strict = strict
        self.user = user


# Options that change what spamc prints (simscan needs the processed
# message) or where it goes: refused in spamc_args.
_REFUSED = {
    "-c": "--check", "-r": "--full-spam", "-R": "--full", "-y": "--tests",
    "-L": "--learntype", "-C": "--reporttype", "-e": "--pipe-to", "-K": "",
}  # fmt: skip
_REFUSED_LONG = {v: k for k, v in _REFUSED.items() if v}


def spamc_options(args: str) -> SpamcOptions:
    """Read spamc_args as spamc's getopt would: short options may be
    bundled (`-xE`), and the first one that takes a value takes the rest
    of the word (`-U/path`, `-xU /path`) or the next word."""
    words = split_args(args)
    socket_path = ""
    hosts: list[str] = []
    port = DEFAULT_PORT
    strict = False
    user = ""
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        name, value = word, ""
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            refused = _REFUSED_LONG.get(name, "")
            takes = name in ("--socket", "--dest", "--port", "--username")
            if takes and has_value and not value:
                raise ValueError(f"{name} needs a value in spamc_args")
            takes = takes and not has_value
        elif word.startswith("-") and len(word) > 1:
            refused, takes, name = "", False, ""
            for at, c in enumerate(word[1:], 2):
                if f"-{c}" in _REFUSED:
                    refused = f"-{c}"
                    break
                if c == "x":
                    strict = True
                if c not in _BARE_FLAGS:  # takes a value: the rest, or the next word
                    name, value = f"-{c}", word[at:]
                    takes = not value
                    break
        else:
            continue
        if refused:
            raise ValueError(f"{refused} in spamc_args changes what spamc prints")
        if takes:
            if i >= len(words):
                raise ValueError(f"{name} needs a value in spamc_args")
            value = words[i]
            i += 1
        if name in ("-U", "--socket"):
            socket_path = value
        elif name in ("-d", "--dest"):
            hosts = [h for h in value.split(",") if h]
        elif name in ("-p", "--port"):
            if not value.isdigit() or not value.isascii() or not 0 < int(value) < 65536:
                raise ValueError(f"bad port {value!r} in spamc_args")
            port = int(value)
        elif name in ("-u", "--username"):
            user = value
        elif name == "--no-safe-fallback":
            strict = True
    if socket_path:
        return SpamcOptions([Endpoint(path=socket_path)], strict, user)
    # Host names are allowed here, as spamc allows them (and as in
    # clamd.conf); the `spamd` setting takes addresses only.
    endpoints = [Endpoint(host=h.strip("[]"), port=port) for h in hosts or ["127.0.0.1"]]
    return SpamcOptions(endpoints, strict, user)


# spamc's short options that take no value, which may be bundled (-xE).
_BARE_FLAGS = "BcEfhHKlrRxXyzS0V46"
