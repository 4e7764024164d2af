"""rspamd's HTTP protocol, as its normal worker speaks it (what rspamc,
rspamd's milter proxy and Haraka's plugin send): one request per
connection,

    POST /checkv2 HTTP/1.0\\r\\n
    Content-Length: <bytes>\\r\\n
    From: <envelope sender>\\r\\n
    Rcpt: <recipient>\\r\\n          (one per recipient)
    IP: ...  Hostname: ...  User: ...  Queue-Id: ...
    Deliver-To: ...  Settings-Id: ...
    \\r\\n
    <the message>

and the answer, an HTTP/1.x response whose body is one JSON object:
`action`, `score`, `required_score` (the reject threshold), `messages`
(`smtp_message`), `subject` (for "rewrite subject"), `dkim-signature`, and
`milter` (`add_headers`, `remove_headers`): what an MTA does to the
message it queues.  `GET /ping` answers `pong`; the version is only in
the `Server: rspamd/3.4` header.

The JSON is read with the C scanner of `_json`: `import json` costs about
10 ms per message, most of it `re`, for a decoder we need one call of.

No policy here: simscan.scan.rspamd decides what an action means.
"""

from .netio import Deadline, send_all, send_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket as _socket
    from io import FileIO

DEFAULT_PORT = 11333
CHUNK = 256 * 1024
MAX_HEAD = 16 * 1024  # the answer's status line and headers
MAX_BODY = 16 * 1024 * 1024  # a JSON answer longer than this is garbage
MAX_CHANGES = 1000  # header additions or removals: more is garbage (and costly)

# The actions rspamd 3.x answers with.  "discard" and "quarantine" are
# set by rules (force_actions) for an MTA to keep the message from the
# recipient; anything else is an answer simscan cannot act on.
ACTIONS = (
    "no action",
    "greylist",
    "add header",
    "rewrite subject",
    "soft reject",
    "reject",
    "discard",
    "quarantine",
)


class ProtocolError(Exception):
    """rspamd said something that is not a /checkv2 answer, or said it wrong."""


class Reply:
    """A parsed /checkv2 answer (text as str, as the JSON has it)."""

    __slots__ = (
        "action",
        "add",
        "dkim",
        "message",
        "remove",
        "required",
        "score",
        "server",
        "subject",
        "symbols",
    )

    def __init__(self, action: str, score: float, required: float) -> None:
        self.action = action
        self.score = score
        self.required = required  # rspamd's reject threshold (required_score)
        self.message = ""  # messages.smtp_message
        self.subject: str | None = None  # the new Subject ("rewrite subject")
        self.dkim: list[str] = []  # dkim-signature values
        # milter.add_headers as (name, value, order), in the order given;
        # order -1: after the other headers, N >= 0: before the N+1th.
        self.add: list[tuple[str, str, int]] = []
        # milter.remove_headers as (name, which): 0 every one, N > 0 the
        # Nth, N < 0 the Nth from the end.
        self.remove: list[tuple[str, int]] = []
        self.symbols: list[tuple[str, float]] = []  # (name, score) as given
        self.server = ""  # what the Server header said, `rspamd/3.4`

    def __repr__(self) -> str:
        return f"Reply({self.action!r}, {self.score}/{self.required})"


def request_head(size: int, fields: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and headers; `fields` are (name, value) pairs,
    values cleaned of line breaks and control bytes (they come from the
    envelope and the environment)."""
    head = b"POST /checkv2 HTTP/1.0\r\nContent-Length: %d\r\n" % size
    for name, value in fields:
        value = value.translate(None, _CONTROLS).strip()
        if value:
            head += name + b": " + value + b"\r\n"
    return head + b"\r\n"


_CONTROLS = bytes([*range(32), 127])


def check(
    sock: "_socket.socket",
    message: "FileIO",
    size: int,
    fields: list[tuple[bytes, bytes]],
    deadline: Deadline,
) -> Reply:
    """Send the message to /checkv2 and read rspamd's answer.

    ProtocolError for an answer that is not right (an HTTP error status
    included); OSError/TimeoutError from the socket.
    """
    try:
        _send(sock, message, size, fields, deadline)
    except (BrokenPipeError, ConnectionResetError) as err:
        # rspamd may answer (an error) and hang up before it has read the
        # whole message: its answer says more than the broken pipe.
        try:
            status, _, body = read_response(sock, deadline)
        except OSError:
            raise err from None
        except ProtocolError as said:
            if str(said) == "no answer":
                raise err from None
            raise
        raise ProtocolError(
            f"answered HTTP {status}{_error_text(body)} before it had the whole message"
        ) from None
    status, headers, body = read_response(sock, deadline)
    if status != 200:
        raise ProtocolError(f"answered HTTP {status}{_error_text(body)}")
    reply = parse_reply(body)
    reply.server = headers.get(b"server", b"").decode("ascii", "replace")
    return reply


def _send(
    sock: "_socket.socket",
    message: "FileIO",
    size: int,
    fields: list[tuple[bytes, bytes]],
    deadline: Deadline,
) -> None:
    send_all(sock, request_head(size, fields), deadline)
    if not send_file(sock, message, size, deadline, CHUNK):
        raise ProtocolError("the message file is shorter than its size")


def ping(sock: "_socket.socket", deadline: Deadline) -> str:
    """`GET /ping`: the Server header's version (`3.4`), "" when it names none."""
    send_all(sock, b"GET /ping HTTP/1.0\r\n\r\n", deadline)
    status, headers, body = read_response(sock, deadline)
    if status != 200 or body.strip() != b"pong":
        raise ProtocolError(f"answered HTTP {status} {body[:40]!r} to a ping")
    return version_of(headers.get(b"server", b"").decode("ascii", "replace"))


def version_of(server: str) -> str:
    """`rspamd/3.4` -> `3.4`; "" when the header is not rspamd's."""
    name, slash, version = server.strip().partition("/")
    return version.split()[0] if slash and name.lower() == "rspamd" and version else ""


def read_response(
    sock: "_socket.socket", deadline: Deadline
) -> tuple[int, dict[bytes, bytes], bytes]:
    """An HTTP/1.x response: (status, headers with lower-case names, body).
    The body is Content-Length long, or runs to the end of the connection."""
    data = b""
    while True:
        at = data.find(b"\r\n\r\n")
        if at >= 0:
            break
        if len(data) > MAX_HEAD:
            raise ProtocolError(f"answer head longer than {MAX_HEAD} bytes")
        sock.settimeout(deadline.left())
        got = sock.recv(65536)
        if not got:
            raise ProtocolError("answer cut short in its head" if data else "no answer")
        data += got
    lines = data[:at].split(b"\r\n")
    status = _status(lines[0])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ProtocolError(f"bad header line {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"content-encoding", b"identity").lower() != b"identity":
        raise ProtocolError("answer is compressed (simscan does not ask for that)")
    body = data[at + 4 :]
    length_text = headers.get(b"content-length")
    if length_text is not None and not (length_text.isdigit() and length_text.isascii()):
        raise ProtocolError(f"bad Content-Length {length_text[:40]!r}")
    length = MAX_BODY + 1 if length_text is None else int(length_text)
    if length_text is not None and length > MAX_BODY:
        raise ProtocolError(f"answer body of {length} bytes is over {MAX_BODY}")
    while len(body) < length:
        sock.settimeout(deadline.left())
        got = sock.recv(65536)
        if not got:
            if length_text is None:
                return status, headers, body
            raise ProtocolError(f"answer cut short at {len(body)} of {length} bytes")
        body += got
        if len(body) > MAX_BODY:
            raise ProtocolError(f"answer body over {MAX_BODY} bytes")
    if len(body) > length:
        raise ProtocolError("more body than its Content-Length")
    return status, headers, body


def _status(line: bytes) -> int:
    words = line.split(None, 2)
    if (
        len(words) < 2
        or not words[0].startswith(b"HTTP/1.")
        or not (words[1].isdigit() and words[1].isascii() and len(words[1]) == 3)
    ):
        raise ProtocolError(f"unexpected answer {line[:100]!r}")
    return int(words[1])


def _error_text(body: bytes) -> str:
    """rspamd's own words for an error status ({"error": "..."}), if any."""
    try:
        found = loads(body)
    except ProtocolError:
        return ""
    error = found.get("error") if isinstance(found, dict) else None
    return f" ({str(error)[:200]})" if error else ""


class _Context:
    """What _json's scanner reads off json.JSONDecoder: the defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity: refused below as not finite


def loads(data: bytes) -> object:
    """One JSON value (the whole of `data`, whitespace around it allowed)."""
    import _json

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("answer is not UTF-8") from None
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        value, end = _json.make_scanner(_Context())(text, start)  # type: ignore[arg-type]
    except (StopIteration, ValueError, RecursionError, SystemError):
        # Python 3.11's scanner reports some errors with json.decoder's
        # exception, and without that module imported (we never import it)
        # ends in a SystemError instead: garbage all the same.
        raise ProtocolError(f"answer is not JSON {data[:60]!r}") from None
    if text[end:].strip(" \t\r\n"):
        raise ProtocolError(f"answer has more after its JSON {text[end : end + 40]!r}")
    return value


def parse_reply(body: bytes) -> Reply:
    """The JSON of a /checkv2 answer -> Reply; ProtocolError when a part
    simscan acts on is missing or of the wrong kind."""
    found = loads(body)
    if not isinstance(found, dict):
        raise ProtocolError("answer is not a JSON object")
    if "action" not in found and "error" in found:
        raise ProtocolError(f"answered an error ({str(found['error'])[:200]})")
    action = found.get("action")
    if action not in ACTIONS:
        raise ProtocolError(f"unknown action {str(action)[:60]!r}")
    reply = Reply(str(action), _number(found, "score"), _number(found, "required_score"))
    messages = found.get("messages")
    if isinstance(messages, dict) and isinstance(messages.get("smtp_message"), str):
        reply.message = messages["smtp_message"]
    subject = found.get("subject")
    if isinstance(subject, str):
        reply.subject = subject
    reply.dkim = _strings(found.get("dkim-signature"), "dkim-signature")
    milter = found.get("milter")
    if milter is not None:
        if not isinstance(milter, dict):
            raise ProtocolError("milter is not an object")
        reply.add = _additions(milter.get("add_headers"))
        reply.remove = _removals(milter.get("remove_headers"))
    symbols = found.get("symbols")
    if isinstance(symbols, dict):
        for name, symbol in symbols.items():
            if isinstance(symbol, dict) and _finite(symbol.get("score")):
                reply.symbols.append((name, float(symbol["score"])))
    return reply


def _finite(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        number = float(value)  # OverflowError: an int of 400 digits
    except OverflowError:
        return False
    return number - number == 0  # not inf, not nan


def _number(found: dict[str, object], key: str) -> float:
    value = found.get(key)
    if not _finite(value):
        raise ProtocolError(f"{key} is not a number ({str(value)[:40]!r})")
    return float(value)  # type: ignore[arg-type]


def _strings(value: object, what: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in items):
        raise ProtocolError(f"{what} is not text")
    return [str(v) for v in items]


def _additions(value: object) -> list[tuple[str, str, int]]:
    """add_headers: name -> "value", {"value", "order"}, or a list of those."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ProtocolError("milter.add_headers is not an object")
    out = []
    for name, given in value.items():
        for item in given if isinstance(given, list) else [given]:
            if isinstance(item, str):
                out.append((name, item, -1))
                continue
            text = item.get("value") if isinstance(item, dict) else None
            order = item.get("order", -1) if isinstance(item, dict) else None
            if not isinstance(text, str) or not isinstance(order, int) or isinstance(order, bool):
                raise ProtocolError(f"milter.add_headers {name[:60]!r} is not a header")
            out.append((name, text, order))
    if len(out) > MAX_CHANGES:
        raise ProtocolError(f"milter.add_headers has over {MAX_CHANGES} headers")
    return out


def _removals(value: object) -> list[tuple[str, int]]:
    """remove_headers: name -> which (0 all, N the Nth, -N from the end)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ProtocolError("milter.remove_headers is not an object")
    out = []
    for name, given in value.items():
        for which in given if isinstance(given, list) else [given]:
            if not isinstance(which, int) or isinstance(which, bool):
                raise ProtocolError(f"milter.remove_headers {name[:60]!r} is not a number")
            out.append((name, which))
    if len(out) > MAX_CHANGES:
        raise ProtocolError(f"milter.remove_headers has over {MAX_CHANGES} entries")
    return out
