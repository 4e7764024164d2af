"""What a C simscan binary's strings say about how it was built.

configure's paths are C string literals in the binary: the work dir,
control dir, qmail-queue, clamdscan, spamc, the quarantine and Trophie
paths (and, in simscanmk beside it, the spamassassin, sigtool and ClamAV
database paths), recognised by their names.  The switches are `#ifdef`s
and leave no string of their own, but each compiles in code whose
literals are traces of it: the log state `ATTACH` exists only with
--enable-attach, `SPAM PASS` only with --enable-spam-hits, the custom
reject texts only with --enable-custom-smtp-reject, and so on
(`SWITCH_TRACES`; read from the sources of simscan 1.4.1 and 1.4.6.2,
whose traces are the same).  What leaves no trace is said, with what the
admin can check instead; spamc's arguments read here are always to be
checked (celf.cut).
"""

from __future__ import annotations

import os
import stat

from .cbuild import DSPAM_GAP, Recovery
from .celf import Binary, cut, setuid_owner, version

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
    ("--disable-qmail-bounce", "--stdout", "--client", "--debug", "--user",
     "--feature=chained,noise", "--deliver=innocent,spam")
)  # fmt: skip


def _traced(binary: Binary, traces: tuple[str, ...]) -> str:
    for trace in traces:
        if binary.starts(trace) if trace in _PREFIX_TRACES else binary.has(trace):
            return trace
    return ""


def from_binary(binary: Binary, mk: Binary | None, recovery: Recovery) -> None:
    """Fill `recovery` from the strings of simscan (and simscanmk)."""
    recovery.version = version(binary)
    shown = f"simscan {recovery.version}" if recovery.version else "version unknown"
    recovery.sources.append(f"{binary.path} ({shown}, its strings)")
    paths = _paths(binary, in_mk=False)
    if mk is not None:
        recovery.sources.append(f"{mk.path} (its strings)")
        for setting, found in _paths(mk, in_mk=True).items():
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
    elif cut(found[0]):
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
        and not any(c in text for c in " \t%")
        and not text.startswith(("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"))
    )


def _classify(path: str, in_mk: bool) -> str:
    base = path.rstrip("/").rsplit("/", 1)[-1]
    if base in _PROGRAMS:
        return _PROGRAMS[base]
    if "qmail-queue" in base:
        return "qmail_queue"
    if "trophie" in path or "sophie" in path:
        return "trophie_path" if in_mk else "trophie_socket"
    if base == "quarantine":
        return "quarantinedir"
    if base == "control":
        return "controldir"
    if in_mk:
        return "clamavdb_path" if "clamav" in path else ""
    return "workdir" if "simscan" in base else ""


def _paths(binary: Binary, in_mk: bool) -> dict[str, str]:
    """setting -> the first path that looks like it; `?PATH` for a path
    that looks like none (an existing dir may still be the work dir)."""
    out: dict[str, str] = {}
    for text in binary.strings:
        if _is_path(text):
            setting = _classify(text, in_mk) or f"?{text}"
            out.setdefault(setting, text)
    if in_mk:
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
