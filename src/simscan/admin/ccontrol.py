"""The C simscan's control files, read for `simscanmk --from-c`.

simcontrol and simcontrol.cdb stay as they are: simscanmk compiles the
same language into the same records (a cdb from either simscanmk works
with either simscan).  What is said here is where simscanmk or simscan
would read a line differently from the C programs: a line simscanmk
refuses (the C simscanmk compiled anything, and the C simscan skipped
names it did not know), an extension without a dot (the C simscan
compared the name's end, so `exe` also blocked `annexe`), a `spam_hits=`
or `size_limit=` the C build ignored.  ssattach is read as the C simscan
read it; simsizelimit (simscan 1.4.2 and 1.4.3) becomes size_limit.
"""

from __future__ import annotations

import os

from ..config.policy import ATTACH_NAME, CDB_NAME, read_attach_list
from ..config.simcontrol import Rule, SourceError, parse_rule, records
from ..errors import ConfigError
from .cbuild import Recovery, spamc_max_size

SOURCE_NAME = "simcontrol"
SIZE_NAME = "simsizelimit"


def check(controldir: str, recovery: Recovery) -> list[tuple[bytes, Rule]]:
    """Notes and gaps for the control files; returns simcontrol's entries
    (for the audit of settings that do nothing)."""
    entries = _simcontrol(controldir, recovery)
    _ssattach(controldir, recovery)
    _size_limit(controldir, recovery)
    return entries


def _read(path: str, recovery: Recovery) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(16 << 20)
    except FileNotFoundError:
        return None
    except OSError as err:
        recovery.note(f"cannot read {path} ({err.strerror})")
        return None


def _simcontrol(controldir: str, recovery: Recovery) -> list[tuple[bytes, Rule]]:
    path = f"{controldir}/{SOURCE_NAME}"
    text = _read(path, recovery)
    cdb = f"{controldir}/{CDB_NAME}"
    if text is None:
        if os.path.exists(cdb):
            recovery.note(
                f"{cdb} is there but not {path}: simscan reads the cdb as it is; keep a"
                " simcontrol beside it to change it with simscanmk"
            )
        return []
    entries: list[tuple[bytes, Rule]] = []
    refused = False
    theirs = []
    for number, line in enumerate(text.split(b"\n"), 1):
        where = f"{path} line {number}"
        try:
            record = c_record(line)
        except CrashesC:
            record = None
            recovery.note(
                f"{where}: the C simscanmk crashes on it (a key with nothing after it), so the"
                " simcontrol.cdb in use was built before the line was there"
            )
        theirs += [record] if record else []
        try:
            pairs = records(line)
        except SourceError as err:
            refused = True
            recovery.gap(
                where,
                f"simscanmk refuses it ({err.problem}), where the C simscanmk took it;"
                " fix it before simscanmk builds simcontrol.cdb",
            )
            continue
        for key, value in pairs:
            rule = parse_rule(value)
            entries.append((key, rule))
            _read_differently(where, rule, recovery)
        _compare_line(where, record, pairs[0] if pairs else None, recovery)
    if not refused:
        rules = f"{len(entries)} rule" + ("" if len(entries) == 1 else "s")
        recovery.note(f"{path}: {rules}, which simscanmk compiles as they are")
        _compare_cdb(cdb, records(text), theirs, recovery)
    return entries


_C_KEY_END = b":\n\t\r #"  # the C simscanmk's strtok() delimiters for the key


class CrashesC(Exception):
    """A simcontrol line the C simscanmk dies on (it lower-cases a NULL)."""


def c_record(line: bytes) -> tuple[bytes, bytes] | None:
    """The record the C simscanmk made of one line (or None): the key is
    the first word, delimited by `:`, blank or `#` (so `# a.com: spam=no`
    is the rule for a.com), the value the rest of the line after the one
    delimiter that ended the key; both lower-cased but on the default line.
    Nothing but line ends after the key: CrashesC."""
    if line[:1] == b":":
        return b"", line[1:].lstrip(b"\r").split(b"\r", 1)[0]
    start = 0
    while start < len(line) and line[start] in _C_KEY_END:
        start += 1
    if start == len(line):
        return None
    end = start
    while end < len(line) and line[end] not in _C_KEY_END:
        end += 1
    value = line[end + 1 :].lstrip(b"\r").split(b"\r", 1)[0]
    if not value:
        raise CrashesC
    return line[start:end].lower(), value.lower()


def _compare_line(
    where: str,
    theirs: tuple[bytes, bytes] | None,
    ours: tuple[bytes, bytes] | None,
    recovery: Recovery,
) -> None:
    if theirs == ours or theirs is None:
        return
    shown = _shown(theirs)
    if ours is None:
        key = theirs[0]
        if b"/" in key or not (b"." in key or b"@" in key):
            return  # no address or domain: the C simscan never looked it up
        recovery.note(
            f"{where} is a comment to simscanmk, but the C simscanmk compiled it into the rule"
            f" {shown}: if the C simscan was to apply it, make it a rule line"
        )
    else:
        recovery.note(f"{where}: the C simscanmk read it as {shown}, simscanmk as {_shown(ours)}")


def _shown(record: tuple[bytes, bytes]) -> str:
    key, value = (part.decode(errors="replace") for part in record)
    return f"key {key!r}, value {value!r}"


def _read_differently(where: str, rule: Rule, recovery: Recovery) -> None:
    for ext in rule.attach or ():
        _no_dot(where, ext, recovery)
    spam_on = bool(recovery.get("spam"))
    if rule.spam_hits is not None and spam_on and not recovery.hits_compiled:
        recovery.note(
            f"{where}: spam_hits={rule.spam_hits:g}: the C simscan, built without"
            " --enable-spam-hits, ignored it; simscan refuses spam at that score"
        )
    if rule.size_limit is not None and spam_on and recovery.size_rule not in ("", "builtin"):
        recovery.note(
            f"{where}: size_limit={rule.size_limit}: the C simscan before 1.4.4 ignored it;"
            " simscan applies it"
        )


def _no_dot(where: str, ext: bytes, recovery: Recovery) -> None:
    if ext[:1] != b".":
        shown = ext.decode(errors="replace")
        recovery.note(
            f"{where}: {shown!r} has no dot: the C simscan blocked every name ending in"
            f" {shown!r}, with a dot before it or not; simscan blocks only '{shown}' and"
            f" names ending in '.{shown}'"
        )


def _compare_cdb(
    cdb: str,
    ours: list[tuple[bytes, bytes]],
    theirs: list[tuple[bytes, bytes]],
    recovery: Recovery,
) -> None:
    """Is simcontrol.cdb what the C simscanmk (or ours) makes of simcontrol?"""
    import cdbx

    if not os.path.exists(cdb):
        return  # (the audit says what a missing cdb means)
    try:
        db = cdbx.CDB(cdb, mmap=False)
        try:
            found = list(db.items(all=True))
        finally:
            db.close()
    except OSError as err:
        recovery.note(f"cannot read {cdb} ({err.strerror or err})")
        return
    if found not in (ours, theirs):
        recovery.note(
            f"{cdb} is not what simcontrol compiles to (simcontrol edited since the last"
            " simscanmk?): the C simscan used the cdb; run simscanmk to build it from simcontrol"
        )


def _ssattach(controldir: str, recovery: Recovery) -> None:
    path = f"{controldir}/{ATTACH_NAME}"
    text = _read(path, recovery)
    if text is None:
        return
    try:
        extensions = read_attach_list(path)
    except ConfigError:
        return
    if recovery.get("per_domain"):
        use = (
            "not read with per_domain = true (nor was it by the C simscan):"
            " simcontrol's attach= apply"
        )
    elif recovery.get("attach"):
        use = "read as the C simscan read them (attach = true, per_domain = false)"
    else:
        use = "not read: attach = false (nor was it by the C simscan)"
    recovery.note(f"{path}: {len(extensions)} extensions, {use}")
    for number, line in enumerate(text.splitlines(), 1):
        words = line.replace(b":", b" ").split()
        if words and words[0][:1] == b"#":
            shown = words[0].decode(errors="replace")
            recovery.note(
                f"{path} line {number}: {shown!r} is a comment to simscan; the C simscan"
                " blocked names ending in it"
            )
        elif words:
            _no_dot(f"{path} line {number}", words[0].lower(), recovery)


def _size_limit(controldir: str, recovery: Recovery) -> None:
    """What the C simscan's spam size cap becomes (size_limit)."""
    if not recovery.get("spam"):
        return
    if recovery.size_rule == "file":
        path = f"{controldir}/{SIZE_NAME}"
        text = _read(path, recovery)
        if text is None:
            return
        # The C simscan read up to the first blank, and took atoi() of it
        # when it was over 0 (so a blank first is no number).
        limit = _atoi(text)
        if limit > 0:
            recovery.set("size_limit", limit, f"{path} (simscan 1.4.2 and 1.4.3 read it)")
        recovery.note(f"{path} is not read by simscan: size_limit says it")
    elif recovery.size_rule == "spamc":
        args = str(recovery.get("spamc_args", ""))
        cap = spamc_max_size(args)
        shown = f"simscan {recovery.version}" if recovery.version else "this C simscan"
        recovery.set(
            "size_limit",
            cap + 1,
            f"{shown} had no size limit of its own: spamc scanned up to its -s ({cap} bytes)",
        )


def _atoi(word: bytes) -> int:
    """C's atoi() without its blanks first (the C simscan stopped at one);
    a negative number is 0 here, as either is no size."""
    digits = word[1:] if word[:1] == b"+" else word
    end = next((i for i, c in enumerate(digits) if not 48 <= c <= 57), len(digits))
    return int(digits[:end]) if end else 0
