"""What a C simscan binary says about how it was built: its printable
strings, read in Python as `strings` reads them (runs of 4 or more
printable ASCII bytes), from the ELF's data sections when it has section
headers, else from the whole file.

configure's paths are C string literals in the binary: the work dir,
control dir, qmail-queue, clamdscan, spamc, the quarantine and Trophie
paths (and, in simscanmk beside it, the spamassassin, sigtool and ClamAV
database paths).  The switches are `#ifdef`s and leave no string of their
own, but each compiles in code whose literals are traces of it: the log
state `ATTACH` exists only with --enable-attach, `SPAM PASS` only with
--enable-spam-hits, the custom reject texts only with
--enable-custom-smtp-reject, and so on (`SWITCH_TRACES`; read from the
sources of simscan 1.4.1 and 1.4.6.2, whose traces are the same).  What
leaves no trace is said, with what the admin can check instead.

gcc copies a constant string it only strcpy()s (spamc's arguments) with
inline code: a short one leaves no string, a long one only its first 16
(or 32...) bytes, so spamc's arguments read here are always to be checked.
"""

from __future__ import annotations

import os
import re
import stat
import struct

from .cbuild import DSPAM_GAP, MigrateError, Recovery

MAX_SIZE = 64 << 20  # a simscan binary is ~100 KB
_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{4,}")
_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+){1,2}$")
_VERSION_TEXT = re.compile(r"simscan version:? (\d+\.\d+(?:\.\d+){0,2})$")


class Text:
    """One printable run: its text, its address (for the alignment a
    vector constant has) and whether a NUL ends it."""

    __slots__ = ("address", "nul", "text")

    def __init__(self, text: str, address: int, nul: bool) -> None:
        self.text = text
        self.address = address
        self.nul = nul


class Binary:
    """A C simscan (or simscanmk) binary: its strings and its file mode."""

    def __init__(self, path: str, texts: list[Text], st: os.stat_result) -> None:
        self.path = path
        self.texts = texts
        self.strings = [t.text for t in texts]
        self.known = set(self.strings)
        self.st = st

    def has(self, text: str) -> bool:
        """Is `text` one of its strings (or the tail of one: the linker
        keeps one copy of a string that ends another)?"""
        return text in self.known or any(s.endswith(text) for s in self.strings)

    def starts(self, prefix: str) -> bool:
        return any(s.startswith(prefix) for s in self.strings)


def read(path: str, what: str = "simscan") -> Binary:
    """Read a binary; MigrateError for a missing file, a file that is no
    ELF, or an ELF that is not `what` (simscan, or simscanmk)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # (a FIFO would hang open())
            raise MigrateError(f"{path} is not a file")
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read(MAX_SIZE + 1)
    except FileNotFoundError:
        raise MigrateError(f"{path}: no such file (give the C simscan binary)") from None
    except OSError as err:
        raise MigrateError(f"cannot read {path} ({err.strerror})") from None
    if data[:4] != b"\x7fELF":
        start = data[:40].split(b"\n")[0].decode("ascii", "replace")
        hint = f" (it starts with {start!r}: a script)" if data[:2] == b"#!" else ""
        raise MigrateError(f"{path} is not an ELF binary{hint}; give the C simscan binary")
    if len(data) > MAX_SIZE:
        raise MigrateError(f"{path} is over {MAX_SIZE >> 20} MB: not simscan")
    binary = Binary(path, strings(data), st)
    _check_what(binary, what)
    return binary


def _check_what(binary: Binary, what: str) -> None:
    path = binary.path
    if not any("simscan" in s for s in binary.strings):
        raise MigrateError(f"{path} is an ELF binary but not simscan (no 'simscan' in its strings)")
    is_mk = binary.starts("usage: simscanmk") or binary.starts("simscan versions cdb file built")
    if what == "simscan" and is_mk:
        raise MigrateError(f"{path} is simscanmk; give the simscan binary beside it")
    if what == "simscanmk" and not is_mk:
        raise MigrateError(f"{path} is not simscanmk")


def strings(data: bytes) -> list[Text]:
    """The printable runs of the ELF's data sections (every allocated,
    non-code section with contents), or of the whole file when it has no
    section headers."""
    found = []
    for start, end, address in _data_sections(data) or [(0, len(data), 0)]:
        for match in _PRINTABLE.finditer(data, start, end):
            nul = match.end() < len(data) and data[match.end()] == 0
            text = match.group().decode("ascii")
            found.append(Text(text, address + match.start() - start, nul))
    return found


def _data_sections(data: bytes) -> list[tuple[int, int, int]]:
    """(file start, file end, address) of each section worth reading."""
    try:
        wide, order = {1: False, 2: True}[data[4]], {1: "<", 2: ">"}[data[5]]
        if wide:
            shoff, = struct.unpack_from(order + "Q", data, 0x28)  # fmt: skip
            size, count, names = struct.unpack_from(order + "HHH", data, 0x3A)
            layout = order + "IIQQQQ"
        else:
            shoff, = struct.unpack_from(order + "I", data, 0x20)  # fmt: skip
            size, count, names = struct.unpack_from(order + "HHH", data, 0x2E)
            layout = order + "IIIIII"
        if not count or shoff + count * size > len(data) or size < struct.calcsize(layout):
            return []
        headers = [struct.unpack_from(layout, data, shoff + i * size) for i in range(count)]
        strtab = headers[names]
    except (KeyError, IndexError, struct.error):
        return []
    out = []
    for name, kind, flags, address, offset, length in headers:
        label = data[strtab[4] + name : data.find(b"\0", strtab[4] + name)]
        progbits, alloc, code = kind == 1, flags & 2, flags & 4
        if progbits and alloc and not code and label != b".interp":
            out.append((offset, min(offset + length, len(data)), address))
    return out


# setting -> (C option, what shows it was compiled in).  Each trace is a
# literal that only code under that option's #ifdef holds.
SWITCH_TRACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("per_domain", "--enable-per-domain", ("%s/simcontrol.cdb",)),
    ("attach", "--enable-attach", ("ATTACH",)),
    ("regex", "--enable-regex", ("REGEX",)),
    ("custom_smtp_reject", "--enable-custom-smtp-reject", ("DYour email",)),
    ("dropmsg", "--enable-dropmsg", ("VIRUS DROPPED", "SPAM DROPPED")),
    ("spam", "--enable-spam", ("X-Spam-Flag: YES",)),
    ("received", "--enable-received", ("Received: (simscan",)),
    ("spam_passthru", "--enable-spam-passthru", ("PASSTHRU",)),
)
_PREFIX_TRACES = ("DYour email", "Received: (simscan")
_SPAM_HITS_TRACE = "SPAM PASS"
_CLAMAV_TRACE = "simscan:[%d]: clamdscan detected a virus"
_TROPHIE_TRACE = "simscan:[%d]: trophie found virus"
_DSPAM_TRACE = "X-DSPAM-Result:"
_RELAYCLIENT = "RELAYCLIENT"  # only when spam-auth-user is off (#ifndef)
_SIZE_FILE = "%s/simsizelimit"  # 1.4.2 and 1.4.3
_SIZE_BUILTIN = "simscan: size limit is %d bytes"  # 1.4.4 on
# Literals of the C sources that start with `-`: not spamc's arguments.
_C_DASHES = frozenset(
    ("--disable-qmail-bounce", "--stdout", "--client", "--debug", "--user")
)  # fmt: skip


def _traced(binary: Binary, traces: tuple[str, ...]) -> str:
    for trace in traces:
        if binary.starts(trace) if trace in _PREFIX_TRACES else binary.has(trace):
            return trace
    return ""


def version(binary: Binary) -> str:
    """simscan's version: `simscan version 1.4.0`, or the bare `1.4.6.2`
    that `simscan version: %s` prints; "" when not one is clear."""
    for text in binary.strings:
        match = _VERSION_TEXT.match(text)
        if match:
            return match.group(1)
    found = {t for t in binary.strings if _VERSION.match(t)}
    return found.pop() if len(found) == 1 else ""


def from_binary(binary: Binary, mk: Binary | None, recovery: Recovery) -> None:
    """Fill `recovery` from the strings of simscan (and simscanmk)."""
    recovery.version = version(binary)
    shown = f"simscan {recovery.version}" if recovery.version else "version unknown"
    recovery.sources.append(f"{binary.path} ({shown}, its strings)")
    paths = _paths(binary, "simscan")
    if mk is not None:
        recovery.sources.append(f"{mk.path} (its strings)")
        for setting, found in _paths(mk, "simscanmk").items():
            paths.setdefault(setting, found)
    _user(binary, recovery)
    _switches(binary, paths, recovery)
    _set_paths(binary, paths, recovery, mk)
    if recovery.get("spam"):
        _spam(binary, recovery)
    if recovery.version and not recovery.version.startswith("1.4"):
        recovery.note(
            f"simscan {recovery.version}: the switches were read from traces of simscan 1.4's"
            " code; check them"
        )


def setuid_owner(binary: Binary) -> str:
    """The user the binary is setuid to ("" when it is not)."""
    st = binary.st
    if not st.st_mode & stat.S_ISUID:
        return ""
    import pwd

    try:
        return pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        return str(st.st_uid)


def _user(binary: Binary, recovery: Recovery) -> None:
    name = setuid_owner(binary)
    if name:
        recovery.set("user", name, f"--enable-user (the binary is setuid {name})")
    else:
        mode = f"{stat.S_IMODE(binary.st.st_mode):04o}"
        recovery.gap(
            "--enable-user",
            f"the binary is not setuid (mode {mode}), so the user it ran as is not known;"
            " the C install made it setuid to that user (mode 4711), and the work dir is"
            " that user's (ls -ld the work dir)",
        )


def _switches(binary: Binary, paths: dict[str, str], recovery: Recovery) -> None:
    has_clam = "clamdscan" in paths or binary.has(_CLAMAV_TRACE)
    recovery.set("clamav", has_clam, f"--enable-clamav ({_said(has_clam, 'a clamdscan path')})")
    for setting, flag, traces in SWITCH_TRACES:
        if setting == "spam_passthru" and not recovery.get("spam"):
            continue
        trace = _traced(binary, traces)
        said = _said(bool(trace), repr(trace or traces[0]))
        recovery.set(setting, bool(trace), f"{flag} ({said})")
    if binary.has(_DSPAM_TRACE):
        recovery.gap("--enable-dspam", DSPAM_GAP)
    if binary.has(_TROPHIE_TRACE) and "trophie_socket" not in paths:
        recovery.gap("--enable-trophie-socket", "compiled in, but no socket path in the binary")


def _said(found: bool, what: str) -> str:
    return f"the binary has {what}" if found else f"not compiled in: no {what} in the binary"


def _spam(binary: Binary, recovery: Recovery) -> None:
    auth = not binary.has(_RELAYCLIENT) and not binary.has(_DSPAM_TRACE)
    said = "no RELAYCLIENT check in the binary" if auth else "off: the binary checks RELAYCLIENT"
    recovery.set("spam_auth_user", auth, f"--enable-spam-auth-user ({said})")
    if binary.has(_SPAM_HITS_TRACE):
        recovery.hits_compiled = True
        recovery.gap(
            "--enable-spam-hits",
            "compiled in (the binary has the SPAM PASS state), but its number is in no string;"
            " set spam_hits: with SIMSCAN_DEBUG=1 (in tcp.smtp, for one client) the C simscan"
            " logs it as 'tmpHits: N' for each spam-scanned message",
        )
    recovery.gap(
        "--enable-spamc-user",
        "compiled in or not, no string tells; with it on, spamc got -u with the first"
        " recipient, so spamd's log named recipients as users ('for joe@example.com')",
    )
    _spamc_args(binary, recovery)
    if binary.has(_SIZE_FILE):
        recovery.size_rule = "file"
    elif binary.has(_SIZE_BUILTIN):
        recovery.size_rule = "builtin"
    else:
        recovery.size_rule = "spamc"


def _spamc_args(binary: Binary, recovery: Recovery) -> None:
    flag = "--enable-spamc-args"
    found = [t for t in binary.texts if t.text[:1] == "-" and t.text not in _C_DASHES]
    if not found:
        recovery.gap(
            flag,
            "none in the binary: none were given, or gcc built short ones with inline code;"
            f" check where spamd listens (its --socketpath, or -d and -p){_SPAMD_HINT}",
        )
    elif len(found) > 1:
        shown = ", ".join(repr(t.text) for t in found)
        recovery.gap(flag, f"several strings could be them: {shown}; check where spamd listens")
    elif _cut(found[0]):
        recovery.gap(
            flag,
            f"only their start is in the binary, {found[0].text[:16]!r} (gcc keeps a long"
            " constant string as 16-byte pieces and copies the rest with inline code); check"
            f" where spamd listens{_SPAMD_HINT}",
        )
    else:
        text = found[0].text
        recovery.set("spamc_args", text, f"{flag} (the binary has {text!r})")
        recovery.note(
            f"{flag}: read from the binary as {text!r}; gcc may keep a compiled-in string in"
            " pieces, so check it against where spamd listens"
        )


_SPAMD_HINT = " (ps -o args -C spamd)"


def _cut(text: Text) -> bool:
    """Is this run a vector constant (16-byte aligned, no NUL of its own
    at a 16-byte end), so that the string it starts goes on elsewhere?"""
    length = len(text.text)
    return text.address % 16 == 0 and length >= 16 and (length % 16 == 0 or not text.nul)


# --- paths -------------------------------------------------------------------

# A program's name -> its setting.
_PROGRAMS = {
    "clamdscan": "clamdscan",
    "spamc": "spamc",
    "ripmime": "ripmime",
    "dspam": "dspam",
    "spamassassin": "spamassassin_path",
    "sigtool": "sigtool_path",
}
# setting -> the C option, for the comments.
PATH_FLAGS = {
    "clamdscan": "--enable-clamdscan",
    "spamc": "--enable-spamc",
    "qmail_queue": "--enable-qmail-queue",
    "workdir": "--enable-workdir",
    "controldir": "--enable-controldir",
    "quarantinedir": "--enable-quarantinedir",
    "trophie_socket": "--enable-trophie-socket",
    "trophie_path": "--enable-trophie-path",
    "spamassassin_path": "--enable-spamassassin-path",
    "sigtool_path": "--enable-sigtool-path",
    "clamavdb_path": "--enable-clamavdb-path",
}


def _is_path(text: str) -> bool:
    return (
        text[:1] == "/"
        and len(text) > 1
        and not any(c in text for c in " \t%")
        and not text.startswith(("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"))
    )


def _classify(path: str, which: str) -> str:
    base = path.rstrip("/").rsplit("/", 1)[-1]
    if base in _PROGRAMS:
        return _PROGRAMS[base]
    if "qmail-queue" in base:
        return "qmail_queue"
    if "trophie" in path or "sophie" in path:
        return "trophie_path" if which == "simscanmk" else "trophie_socket"
    if base == "quarantine":
        return "quarantinedir"
    if base == "control":
        return "controldir"
    if which == "simscanmk":
        return "clamavdb_path" if "clamav" in path else ""
    return "workdir" if "simscan" in base else ""


def _paths(binary: Binary, which: str) -> dict[str, str]:
    """setting -> the first path that looks like it; `?PATH` for a path
    that looks like none (an existing dir may still be the work dir)."""
    out: dict[str, str] = {}
    for text in binary.strings:
        if _is_path(text):
            setting = _classify(text, which) or f"?{text}"
            out.setdefault(setting, text)
    if which == "simscanmk":
        return {k: v for k, v in out.items() if k[:1] != "?"}
    left = [v for k, v in out.items() if k[:1] == "?"]
    if "workdir" not in out:
        dirs = [p for p in left if os.path.isdir(p)]
        if len(dirs) == 1:
            out["workdir"] = dirs[0]
            del out[f"?{dirs[0]}"]
    return out


def _set_paths(
    binary: Binary, paths: dict[str, str], recovery: Recovery, mk: Binary | None
) -> None:
    for setting, flag in PATH_FLAGS.items():
        if setting in paths:
            found = paths[setting]
            guess = (
                " (the one existing dir among its paths)"
                if setting == "workdir" and ("simscan" not in found.rsplit("/", 1)[-1])
                else ""
            )
            recovery.set(setting, found, f"{flag} (the binary has {found!r}){guess}")
    _qmaildir(paths, recovery)
    for key, path in paths.items():
        if key == "ripmime":
            recovery.note(f"--enable-ripmime ({path}): not needed, simscan reads MIME itself")
        elif key[:1] == "?":
            recovery.note(f"the binary also has the path {path!r}, which is none simscanmk knows")
    for setting, what in (
        ("workdir", "where the C simscan made a dir per message"),
        ("controldir", "where simcontrol and ssattach are"),
        ("qmail_queue", "the program it handed messages to"),
    ):
        if setting not in paths:
            recovery.gap(PATH_FLAGS[setting], f"no path in the binary looks like it ({what})")
    if recovery.get("spam") and "spamc" not in paths:
        recovery.gap("--enable-spamc", "no spamc path in the binary")
    if mk is None:
        _without_mk(binary, paths, recovery)


def _without_mk(binary: Binary, paths: dict[str, str], recovery: Recovery) -> None:
    mk = os.path.join(os.path.dirname(binary.path), "simscanmk")
    if recovery.get("received"):
        recovery.gap(
            "--enable-spamassassin-path, --enable-clamavdb-path, --enable-sigtool-path",
            f"only in simscanmk, and there is none at {mk}; simscanmk -g uses"
            " spamassassin_path, clamavdb_path and sigtool_path (Debian's paths by default)",
        )
    if "trophie_socket" in paths:
        recovery.gap(
            "--enable-trophie-path",
            f"only in simscanmk, and there is none at {mk}; set trophie_path for simscanmk -g",
        )


def _qmaildir(paths: dict[str, str], recovery: Recovery) -> None:
    """qmaildir has no string of its own: the C configure put the
    quarantine always, and qmail-queue and the control dir by default,
    under it."""
    for setting, tail in (
        ("quarantinedir", "/quarantine"),
        ("qmail_queue", "/bin/qmail-queue"),
        ("controldir", "/control"),
    ):
        path = paths.get(setting, "")
        if path.endswith(tail) and len(path) > len(tail):
            qmaildir = path[: -len(tail)]
            if qmaildir != "/var/qmail":
                recovery.set("qmaildir", qmaildir, f"--enable-qmaildir (from {path!r})")
            return
