"""Scanner daemons for the tests: a real clamd, and small servers for what
cannot be had for real (Trophie/Sophie) or for the faults a real daemon
will not produce on demand (a daemon that accepts and never answers).

The clamd signature database is generated here: `sigtool --md5` over the
EICAR test string and over Debian's clamav-testfiles `clam.exe`, renamed to
the names ClamAV gives them (clamd adds `.UNOFFICIAL` to unsigned ones).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
TESTFILES = Path("/usr/share/clamav-testfiles")
CLAM_EXE = TESTFILES / "clam.exe"
CLAM_MAIL = TESTFILES / "clam.mail"
EICAR_NAME = "Eicar-Test-Signature.UNOFFICIAL"
CLAM_NAME = "ClamAV-Test-File.UNOFFICIAL"
STREAM_MAX = 1024 * 1024  # the test clamd's StreamMaxLength


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signature_database(directory: Path, scratch: Path) -> Path:
    """A .hdb made with sigtool --md5 (hash:size:name lines), and an .ndb."""
    directory.mkdir(parents=True, exist_ok=True)
    eicar = scratch / "eicar.com"
    eicar.write_bytes(EICAR)
    lines = []
    for path, name in ((eicar, "Eicar-Test-Signature"), (CLAM_EXE, "ClamAV-Test-File")):
        out = subprocess.run(
            ["sigtool", "--md5", str(path)], capture_output=True, check=True, text=True
        ).stdout.strip()
        md5, size, _ = out.split(":")
        lines.append(f"{md5}:{size}:{name}")
    db = directory / "simscan-test.hdb"
    db.write_text("\n".join(lines) + "\n")
    # EICAR also as a body signature (as ClamAV's own database has it), so
    # it is found in any part, not only as a file of exactly its 68 bytes.
    (directory / "simscan-test.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
    return db


@dataclass
class Clamd:
    """A running clamd: unix socket, TCP port, its clamd.conf."""

    root: Path
    socket: Path
    port: int
    conf: Path
    db: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def tcp(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ask(self, command: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.socket))
            s.sendall(b"z" + command + b"\0")
            data = b""
            while not data.endswith(b"\0"):
                got = s.recv(4096)
                if not got:
                    break
                data += got
            return data.rstrip(b"\0")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_clamd(root: Path, stream_max: int = STREAM_MAX) -> Clamd:
    """clamd in the foreground on a socket under root, with the generated
    database and (for the tests) a 1 MiB StreamMaxLength, so the over-limit
    case is cheap."""
    assert shutil.which("clamd") or Path("/usr/sbin/clamd").exists(), "clamav-daemon missing"
    root.mkdir(parents=True, exist_ok=True)
    db = root / "db"
    signature_database(db, root)
    clamd = Clamd(root, root / "clamd.sock", free_port(), root / "clamd.conf", db)
    clamd.conf.write_text(
        f"LocalSocket {clamd.socket}\n"
        f"TCPSocket {clamd.port}\n"
        "TCPAddr 127.0.0.1\n"
        f"DatabaseDirectory {db}\n"
        "Foreground yes\n"
        f"LogFile {root / 'clamd.log'}\n"
        f"StreamMaxLength {stream_max // 1024}K\n"
        f"PidFile {root / 'clamd.pid'}\n"
        "MaxThreads 20\n"
        "MaxConnectionQueueLength 100\n"
    )
    program = shutil.which("clamd") or "/usr/sbin/clamd"
    log = open(root / "clamd.out", "wb")  # noqa: SIM115 (lives as long as clamd)
    clamd.process = subprocess.Popen(
        [program, f"--config-file={clamd.conf}"], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if clamd.process.poll() is not None:
            raise RuntimeError(f"clamd exited: {(root / 'clamd.out').read_text()}")
        try:
            if clamd.ask(b"PING") == b"PONG":
                return clamd
        except OSError:
            pass
        time.sleep(0.1)
    clamd.stop()
    raise RuntimeError("clamd did not answer PING within 120 s")


def unix_listener(path: Path, backlog: int = 50) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(backlog)
    return s


class ListenServer:
    """A listener on a thread: `handler(conn)` (or the subclass's `handle`)
    for each connection, one at a time, or each on a thread of its own with
    `threaded`.  With `close_each` a connection is closed when its handler
    returns, else at close().  What a handler raises, other than OSError
    (the client hung up), is kept in `errors` for the test to raise."""

    def __init__(
        self,
        listener: socket.socket,
        handler: Callable[[socket.socket], None] | None = None,
        *,
        threaded: bool = False,
        close_each: bool = False,
    ) -> None:
        self.listener = listener
        self.handler = handler or self.handle
        self.threaded = threaded
        self.close_each = close_each
        self.conns: list[socket.socket] = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.threaded:
                threading.Thread(target=self._run, args=(conn,), daemon=True).start()
            else:
                self._run(conn)

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass
        except BaseException as err:  # reported by the test
            self.errors.append(err)
        finally:
            if self.close_each:
                conn.close()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        # shutdown() wakes the accept() the thread is blocked in (close does not)
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for conn in self.conns:
            conn.close()
        self.thread.join(5)


class SocketServer(ListenServer):
    """A unix-socket server for the end-to-end tests: every connection on
    its own thread, held open until close()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(unix_listener(path), threaded=True)

    def close(self) -> None:
        super().close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class HungServer(SocketServer):
    """Accepts, reads whatever comes, never answers."""

    def handle(self, conn: socket.socket) -> None:
        while conn.recv(65536):
            pass


class HttpReplyServer(SocketServer):
    """Reads a whole HTTP request (head, then Content-Length bytes), then
    answers with fixed bytes and hangs up: an rspamd that says garbage."""

    def __init__(self, path: Path, reply: bytes) -> None:
        self.reply = reply
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            got = conn.recv(65536)
            if not got:
                return
            data += got
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            got = conn.recv(65536)
            if not got:
                return
            body += got
        conn.sendall(self.reply)
        conn.close()


class ReplyServer(SocketServer):
    """Answers every connection with fixed bytes once it has read a little
    (garbage, or an error), then hangs up."""

    def __init__(self, path: Path, reply: bytes) -> None:
        self.reply = reply
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(self.reply)
        conn.close()


@dataclass
class Request:
    directory: str
    files: dict[str, bytes] = field(default_factory=dict)


class TrophieServer(SocketServer):
    """Speaks exactly the Trophie/Sophie protocol (SPEC section 5): reads a
    directory path and a newline, answers one line.  Its "engine" looks for
    marker strings in the files of the directory: TROPHIE-TEST-VIRUS ->
    `1:Trophie.Test.Virus`, TROPHIE-TEST-ERROR -> `-1`, else `0`.  It records
    what it saw, so tests can check the MIME parts were there as files."""

    def __init__(self, path: Path) -> None:
        self.requests: list[Request] = []
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        data = b""
        while not data.endswith(b"\n"):
            got = conn.recv(4096)
            if not got:
                return
            data += got
        directory = data[:-1].decode()
        request = Request(directory)
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    request.files[name] = f.read()
        self.requests.append(request)
        everything = b"".join(request.files.values())
        if b"TROPHIE-TEST-ERROR" in everything:
            answer = b"-1\n"
        elif b"TROPHIE-TEST-VIRUS" in everything:
            answer = b"1:Trophie.Test.Virus\n"
        else:
            answer = b"0\n"
        conn.sendall(answer)
        conn.close()


def black_hole(host: str, port: int = 0) -> tuple[socket.socket, list[socket.socket]]:
    """A TCP listener that never completes a handshake: listen(0) and its
    accept queue filled by connections never accepted, so Linux drops
    every further SYN and a connect to it times out, as to a dead host.
    The listener and the filling sockets: close them all to end it."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(0)
    address = listener.getsockname()
    fill = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(address)
        except BlockingIOError:
            pass
        fill.append(s)
    time.sleep(0.1)  # (the handshakes that can complete have)
    return listener, fill


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)  # (spamd waits for the client's EOF)
    except OSError:
        pass


class CountingProxy(ListenServer):
    """A TCP listener on host:port that forwards each connection to
    `target` (a unix socket path, or a (host, port)) and counts them: which
    of several endpoints the messages reached.  `port` 0: any free one."""

    def __init__(self, target: Path | str | tuple[str, int], host: str = "127.0.0.1",
                 port: int = 0) -> None:  # fmt: skip
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        self.target = target
        self.host = host
        self.port = int(listener.getsockname()[1])
        self.count = 0
        self._lock = threading.Lock()
        super().__init__(listener, threaded=True, close_each=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.count += 1
        if isinstance(self.target, tuple):
            up = socket.create_connection(self.target, timeout=30)
        else:
            up = socket.socket(socket.AF_UNIX)
            up.settimeout(30)
            up.connect(str(self.target))
        try:
            back = threading.Thread(target=_pump, args=(up, conn), daemon=True)
            back.start()
            _pump(conn, up)
            back.join(60)
        finally:
            up.close()


def refused_socket(path: Path) -> Path:
    """A socket file nobody listens on: connecting is refused."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


# --- spamd ---------------------------------------------------------------------

GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
# A user whose preferences (virtual-config-dir) make SpamAssassin flag
# anything scoring 1.0 or more: a per-user preference effect to test.
STRICT_USER = "strict"


@dataclass
class Spamd:
    """A running spamd: unix socket, TCP port, its log, and whether
    per-user preferences are on (they need root: spamd -u nobody)."""

    root: Path
    socket: Path
    port: int
    log: Path
    per_user: bool
    process: subprocess.Popen[bytes] | None = None

    @property
    def tcp(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ping(self) -> bool:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.socket))
            s.sendall(b"PING SPAMC/1.5\r\n\r\n")
            return s.recv(100).startswith(b"SPAMD/1.5 0 PONG")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_spamd() -> Spamd:
    """spamd (Debian's spamd package) on a unix socket and a TCP port, local
    tests only (-L), no per-user files but per-user preferences from a
    virtual config dir when running as root.  The dir is under /tmp with
    mode 0755 (not pytest's 0700 temp dir): spamd's children run as nobody
    and must read it."""
    import tempfile

    program = shutil.which("spamd") or "/usr/sbin/spamd"
    assert Path(program).exists(), "spamd missing (Debian package spamd)"
    root = Path(tempfile.mkdtemp(prefix="simscan-spamd-"))
    root.chmod(0o755)
    users = root / "users" / STRICT_USER
    users.mkdir(parents=True)
    for d in (root / "users", users):
        d.chmod(0o755)
    (users / "user_prefs").write_text("required_score 1.0\n")
    (users / "user_prefs").chmod(0o644)
    log = root / "spamd.log"
    log.touch()
    log.chmod(0o666)
    spamd = Spamd(root, root / "spamd.sock", free_port(), log, per_user=os.geteuid() == 0)
    argv = [
        program,
        f"--listen={spamd.socket}",
        f"--listen=127.0.0.1:{spamd.port}",
        f"--pidfile={root / 'spamd.pid'}",
        "--max-children=8",
        "--min-children=2",
        f"--syslog={log}",
        "--local",
        "--nouser-config",
        f"--helper-home-dir={root}",
    ]
    if spamd.per_user:
        argv += ["--username=nobody", f"--virtual-config-dir={root}/users/%u"]
    out = open(root / "spamd.out", "wb")  # noqa: SIM115 (lives as long as spamd)
    spamd.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if spamd.process.poll() is not None:
            raise RuntimeError(f"spamd exited: {(root / 'spamd.out').read_text()}")
        try:
            if spamd.ping():
                return spamd
        except OSError:
            pass
        time.sleep(0.1)
    spamd.stop()
    raise RuntimeError("spamd did not answer PING within 120 s")


class ResetServer(SocketServer):
    """Reads the request, sends the first bytes of an answer, then resets
    the connection (SO_LINGER 0): a daemon dying mid-reply."""

    def __init__(self, path: Path, partial: bytes) -> None:
        self.partial = partial
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        import struct

        conn.recv(65536)
        conn.sendall(self.partial)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


# --- rspamd --------------------------------------------------------------------

# rspamd's own GTUBE variants (with enable_test_patterns): X rejects, Y adds
# a header, Z rewrites the subject, A is no action.
RSPAMD_GTUBE = {
    "reject": GTUBE,
    "add header": b"Y" + GTUBE[1:],
    "rewrite subject": b"Z" + GTUBE[1:],
    "no action": b"A" + GTUBE[1:],
}
DKIM_DOMAIN = "example.com"
DKIM_SELECTOR = "test"
STRICT_SETTINGS = "strict"  # a settings id whose reject threshold is 5.0

# The test rules: SIMSCAN_ECHO says what rspamd was told (its options, in
# the reply's symbols); a Subject with `score=N` scores N; `soft-reject-me`
# and `greylist-me` force those actions (force_actions).
_RSPAMD_LUA = r"""
local function opt(v)
  if v == nil then return '-' end
  return tostring(v)
end
rspamd_config:register_symbol({
  name = 'SIMSCAN_ECHO', score = 0.0,
  callback = function(task)
    local from = task:get_from('smtp')
    local r = {}
    for _, a in ipairs(task:get_recipients('smtp') or {}) do table.insert(r, a.addr) end
    task:insert_result('SIMSCAN_ECHO', 1.0, {
      'from=' .. opt(from and from[1] and from[1].addr),
      'rcpt=' .. table.concat(r, ','),
      'ip=' .. opt(task:get_from_ip()),
      'hostname=' .. opt(task:get_hostname()),
      'user=' .. opt(task:get_user()),
      'queue_id=' .. opt(task:get_queue_id()),
      'deliver_to=' .. opt(task:get_request_header('Deliver-To')),
      'settings_id=' .. opt(task:get_request_header('Settings-Id')),
    })
  end,
})
rspamd_config:register_symbol({
  name = 'SIMSCAN_SCORE', score = 1.0,
  callback = function(task)
    local n = (task:get_subject() or ''):match('score=(%d+%.?%d*)')
    if n then task:insert_result('SIMSCAN_SCORE', tonumber(n)) end
  end,
})
rspamd_config:register_symbol({
  name = 'SIMSCAN_SOFT', score = 0.0,
  callback = function(task)
    return (task:get_subject() or ''):find('soft-reject-me', 1, true) ~= nil
  end,
})
rspamd_config:register_symbol({
  name = 'SIMSCAN_GREY', score = 0.0,
  callback = function(task)
    return (task:get_subject() or ''):find('greylist-me', 1, true) ~= nil
  end,
})
"""

# Modules that ask the network (DNS lists, SPF, DMARC, fuzzy, maps), need
# redis, or look up the client's name: off, so results are the same offline.
_RSPAMD_OFF = [
    "rbl",
    "spf",
    "dmarc",
    "fuzzy_check",
    "asn",
    "mx_check",
    "neural",
    "greylist",
    "ratelimit",
    "reputation",
    "replies",
    "history_redis",
    "url_redirector",
    "rspamd_update",
    "hfilter",
    "emails",
    "multimap",
    "phishing",
    "arc",
    "bimi",
    "clickhouse",
    "elastic",
    "metric_exporter",
    "p0f",
    "dcc",
    "spamtrap",
    "external_services",
    "antivirus",
]


@dataclass
class Rspamd:
    """A running rspamd (Debian's rspamd): normal worker on a unix socket
    and a TCP port, its log, and the DKIM public key it signs for."""

    root: Path
    socket: Path
    port: int
    log: Path
    dkim_txt: bytes  # the DNS TXT record of DKIM_SELECTOR._domainkey.DKIM_DOMAIN
    process: subprocess.Popen[bytes] | None = None

    @property
    def tcp(self) -> str:
        return f"127.0.0.1:{self.port}"

    def request(self, raw: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(20)
            s.connect(str(self.socket))
            s.sendall(raw)
            data = b""
            while got := s.recv(65536):
                data += got
            return data

    def check(self, message: bytes, headers: bytes = b"") -> dict:  # type: ignore[type-arg]
        """rspamd's JSON answer to a message, asked by hand."""
        import json

        head = b"POST /checkv2 HTTP/1.0\r\nContent-Length: %d\r\n" % len(message)
        answer = self.request(head + headers + b"\r\n" + message)
        return json.loads(answer.partition(b"\r\n\r\n")[2])  # type: ignore[no-any-return]

    def ping(self) -> bool:
        return self.request(b"GET /ping HTTP/1.0\r\n\r\n").endswith(b"pong\r\n")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def rspamd_config(root: Path, port: int) -> tuple[Path, bytes]:
    """A minimal offline configuration under root (Debian's defaults,
    with local.d/override files and `--var` paths pointing here); the
    config file and the DKIM key's TXT record."""
    local = root / "local.d"
    for d in (local, root / "db", root / "dkim"):
        d.mkdir(parents=True, exist_ok=True)
    key = root / "dkim" / f"{DKIM_DOMAIN}.{DKIM_SELECTOR}.key"
    txt = subprocess.run(
        ["rspamadm", "dkim_keygen", "-d", DKIM_DOMAIN, "-s", DKIM_SELECTOR, "-b", "1024",
         "-k", str(key)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    record = b"".join(re.findall(rb'"([^"]*)"', txt))
    conf = root / "rspamd.conf"
    conf.write_text(
        '.include "$CONFDIR/common.conf"\n'
        "options {\n"
        '    pidfile = "$RUNDIR/rspamd.pid";\n'
        '    .include "$CONFDIR/options.inc"\n'
        '    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"\n'
        "}\n"
        'logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info"; }\n'
        'worker "normal" {\n'
        f'    bind_socket = "127.0.0.1:{port}";\n'
        f'    bind_socket = "{root}/rspamd.sock mode=0666";\n'
        "    count = 2;\n"
        "    mime = true;\n"
        "}\n"
    )
    (local / "options.inc").write_text(
        "enable_test_patterns = true;\n"
        'filters = "chartable,regexp,dkim";\n'
        # No DNS: a dead nameserver answers at once (ICMP), and the tests
        # send Hostname, so the client's name is never looked up.
        'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 1; }\n'
    )
    for module in _RSPAMD_OFF:
        (local / f"{module}.conf").write_text("enabled = false;\n")
    (local / "force_actions.conf").write_text(
        "rules {\n"
        '  SIMSCAN_SOFT { action = "soft reject"; expression = "SIMSCAN_SOFT";'
        ' message = "Slow down, try later"; }\n'
        '  SIMSCAN_GREY { action = "greylist"; expression = "SIMSCAN_GREY"; }\n'
        "}\n"
    )
    (local / "milter_headers.conf").write_text(
        'use = ["x-spamd-bar", "x-rspamd-queue-id"];\n'
        "skip_local = false;\nskip_authenticated = false;\n"
    )
    (local / "dkim_signing.conf").write_text(
        f'path = "{root}/dkim/$domain.$selector.key";\n'
        f'selector = "{DKIM_SELECTOR}";\n'
        "allow_username_mismatch = true;\nsign_authenticated = true;\nsign_local = false;\n"
    )
    (local / "settings.conf").write_text(
        f'{STRICT_SETTINGS} {{ id = "{STRICT_SETTINGS}";'
        ' apply { actions { reject = 5.0; "add header" = 3.0; greylist = 2.0; } } }\n'
    )
    (root / "rspamd.local.lua").write_text(_RSPAMD_LUA)
    return conf, record


def start_rspamd() -> Rspamd:
    """rspamd in the foreground with rspamd_config(); the first start
    compiles its hyperscan database (about 15 s), later ones reuse it from
    a cache dir kept under /tmp."""
    import tempfile

    program = shutil.which("rspamd") or "/usr/bin/rspamd"
    assert Path(program).exists(), "rspamd missing (Debian package rspamd)"
    root = Path(tempfile.mkdtemp(prefix="simscan-rspamd-"))
    root.chmod(0o755)
    port = free_port()
    conf, record = rspamd_config(root, port)
    cache = Path(tempfile.gettempdir()) / "simscan-rspamd-hs-cache"
    cache.mkdir(exist_ok=True)
    log = root / "rspamd.log"
    argv = [program, "-f", "-c", str(conf)]
    for name, value in (("LOCAL_CONFDIR", root), ("DBDIR", root / "db"), ("RUNDIR", root),
                        ("LOGDIR", root)):  # fmt: skip
        argv += ["--var", f"{name}={value}"]
    if os.geteuid() == 0:
        argv.append("-i")  # workers as root: only in a test
    with (root / "local.d" / "options.inc").open("a") as f:
        f.write(f'hs_cache_dir = "{cache}/";\n')
    daemon = Rspamd(root, root / "rspamd.sock", port, log, record)
    out = open(root / "rspamd.out", "wb")  # noqa: SIM115 (lives as long as rspamd)
    daemon.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise RuntimeError(f"rspamd exited: {(root / 'rspamd.out').read_text()}")
        try:
            if daemon.ping() and _rspamd_ready(daemon):
                return daemon
        except OSError:
            pass
        time.sleep(0.2)
    daemon.stop()
    raise RuntimeError("rspamd did not answer within 180 s")


def _rspamd_ready(daemon: Rspamd) -> bool:
    """Workers answer pings before their rules are loaded: wait for a
    GTUBE reject to come back as one."""
    message = b"Subject: ready?\r\n\r\n" + GTUBE + b"\r\n"
    try:
        return (
            daemon.check(message, b"IP: 127.0.0.1\r\nHostname: localhost\r\n")["action"] == "reject"
        )
    except (ValueError, KeyError):
        return False
