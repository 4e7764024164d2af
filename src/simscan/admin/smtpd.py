"""Who qmail-smtpd (and so simscan) runs as, read from the usual run
scripts, and whether that user can create entries in a directory.

tcpserver's `-u UID -g GID` (or `-U`, from $UID and $GID) leaves the
program with that uid, that gid and no other group: ucspi-tcp's prot_gid()
calls setgroups(1, &gid).  xinetd's `user`/`group` do the same unless
`groups = yes`, which gives the user's groups from /etc/group.  When
qmail-smtpd runs as root, simscan drops to its `user` setting with
initgroups(), so that user's groups count.
"""

import grp
import os
import pwd
import re

# Where daemontools, runit and LWQ-style installs keep qmail-smtpd's run
# script, and xinetd its service file.
RUN_SCRIPTS = (
    "/service/qmail-smtpd/run",
    "/etc/service/qmail-smtpd/run",
    "/var/service/qmail-smtpd/run",
    "/etc/sv/qmail-smtpd/run",
    "/var/qmail/supervise/qmail-smtpd/run",
    "/command/qmail-smtpd/run",
)
XINETD = ("/etc/xinetd.d/smtp", "/etc/xinetd.d/qmail-smtpd")


class Identity:
    """A uid, gid and supplementary groups, and where they were read."""

    def __init__(self, uid: int, gid: int, groups: tuple[int, ...], source: str) -> None:
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.source = source

    @property
    def name(self) -> str:
        return user_name(self.uid)

    def describe(self) -> str:
        others = [g for g in self.groups if g != self.gid]
        extra = (
            ", other groups " + ",".join(map(group_name, others)) if others else ", no other groups"
        )
        return f"uid {self.uid} ({self.name}) gid {self.gid} ({group_name(self.gid)}){extra}"


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def identity(given: str | None, scripts: tuple[str, ...] = RUN_SCRIPTS,
             xinetd: tuple[str, ...] = XINETD) -> Identity | None:  # fmt: skip
    """qmail-smtpd's identity: `given` (USER[:GROUP], as tcpserver -u/-g
    would leave it), else the first run script that says; None when none
    does.  ValueError for a user or group that does not exist."""
    if given:
        user, _, group = given.partition(":")
        uid = _uid(user)
        gid = _gid(group) if group else pwd.getpwuid(uid).pw_gid if _known(uid) else uid
        return Identity(uid, gid, (gid,), "as given")
    for path in scripts:
        found = _from_run_script(path)
        if found is not None:
            return found
    for path in xinetd:
        found = _from_xinetd(path)
        if found is not None:
            return found
    return None


def simscan_identity(smtpd: Identity, user: str) -> Identity:
    """Who simscan runs as: qmail-smtpd's identity, or `user` (with its
    groups) when qmail-smtpd runs as root and `user` names someone."""
    if smtpd.uid != 0 or not user:
        return smtpd
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return smtpd
    groups = tuple(os.getgrouplist(user, pw.pw_gid))
    return Identity(pw.pw_uid, pw.pw_gid, groups, f"the `user` setting, {user}")


def can_create(path: str, who: Identity) -> tuple[bool, str]:
    """Can `who` create a directory entry in `path`: search on every
    ancestor, write and search on `path` itself?"""
    if who.uid == 0:
        return True, ""
    parts = os.path.abspath(path).split("/")
    for end in range(1, len(parts) + 1):
        here = "/".join(parts[:end]) or "/"
        try:
            st = os.stat(here)
        except OSError as err:
            return False, f"{here}: {err.strerror}"
        need = 0o3 if end == len(parts) else 0o1  # wx on the dir, x on the way
        bits = _bits(st, who)
        if bits & need != need:
            lack = need & ~bits
            missing = {0o3: "write and search", 0o2: "write", 0o1: "search"}[lack]
            whose = _whose(st, who)
            return False, f"{here} is mode {st.st_mode & 0o7777:04o}, {whose}: no {missing}"
    return True, ""


def _bits(st: os.stat_result, who: Identity) -> int:
    if st.st_uid == who.uid:
        return (st.st_mode >> 6) & 0o7
    if st.st_gid == who.gid or st.st_gid in who.groups:
        return (st.st_mode >> 3) & 0o7
    return st.st_mode & 0o7


def _whose(st: os.stat_result, who: Identity) -> str:
    if st.st_uid == who.uid:
        return f"owned by {who.name}"
    if st.st_gid == who.gid or st.st_gid in who.groups:
        return f"group {group_name(st.st_gid)}, which {who.name} has"
    owner = f"{user_name(st.st_uid)}:{group_name(st.st_gid)}"
    return f"owned by {owner}, neither {who.name} nor one of its groups"


def _known(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _uid(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise ValueError(f"no such user {text!r}") from None


def _gid(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise ValueError(f"no such group {text!r}") from None


_SUBST = re.compile(r"`([^`]*)`|\$\(([^)]*)\)")
_ID = re.compile(r"^\s*id\s+-([ug])\s+['\"]?([^\s'\"]+)['\"]?\s*$")
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(.*)$")
_UNKNOWN = -1  # given, but not to be worked out here


def _from_run_script(path: str) -> Identity | None:
    import shlex

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 16)
    except OSError:
        return None
    # `id -u NAME` and $(id -g NAME) become their numbers (others: unknown),
    # so that shlex sees one word for each.
    text = _SUBST.sub(_substitute, text.replace("\\\n", " "))
    variables = {}
    for line in text.splitlines():
        m = _ASSIGN.match(line)
        if m:
            try:
                words = shlex.split(m.group(2), comments=True)
            except ValueError:
                continue
            variables[m.group(1)] = words[0] if words else ""
    # The first server line that names its user wins; one without -u/-U
    # counts (as root) only when no line names one.
    unnamed: Identity | None = None
    for line in text.splitlines():
        try:
            words = [_expand(w, variables) for w in shlex.split(line, comments=True)]
        except ValueError:
            continue
        at = _server_at(words)
        if at is None:
            continue
        uid, gid, envdir = _options(words[at + 1 :], variables)
        if envdir:
            uid, gid = _from_envdir(path, text)
        if uid is None and not envdir:
            unnamed = unnamed or Identity(0, 0, (0,), f"{path}: tcpserver without -u, so root")
            continue
        if uid is None or gid is None or _UNKNOWN in (uid, gid):
            return None
        return Identity(uid, gid, (gid,), f"{path}: tcpserver -u -g")
    return unnamed


_SERVER = re.compile(r"(?:^|/)(?:s6-)?(?:tcpserver[46]?|sslserver)$")
# A command that only looks at the server's file (`[ -x .../tcpserver ]`)
_TESTS = {"[", "[[", "test", "which", "command", "type", "ls"}
_KEYWORDS = {"if", "elif", "while", "until", "then", "do", "else", "!", "exec"}
_BETWEEN = {"&&", "||", ";", "|", "then", "do", "else"}


def _server_at(words: list[str]) -> int | None:
    """Where the server's own word is, in a command that runs it: not in a
    test of its file, not in an assignment (`TCPSERVER=...`)."""
    start = 0
    for i, word in enumerate([*words, ";"]):
        if word not in _BETWEEN and not word.endswith(";"):
            continue
        command = words[start:i] if i < len(words) else words[start:]
        at = start
        while command and command[0] in _KEYWORDS:
            command, at = command[1:], at + 1
        if command and command[0] not in _TESTS:
            for j, part in enumerate(command):
                if "=" not in part and _SERVER.search(part.rstrip(";")):
                    return at + j
        start = i + 1
    return None


def _options(words: list[str], variables: dict[str, str]) -> tuple[int | None, int | None, bool]:
    """-u, -g and -U from the server's options (its getopt stops at the
    first word that is not one)."""
    uid: int | None = None
    gid: int | None = None
    envdir = False
    i = 0
    while i < len(words) and words[i].startswith("-") and len(words[i]) > 1:
        word = words[i]
        # tcpserver's getopt: "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO"; s6-tcpserver
        # and sslserver add value options of their own (-G gidlist, -C, -i...)
        at_flag = 1
        while at_flag < len(word):
            flag = word[at_flag]
            if flag in "xtuglbBcGCiI":
                value = word[at_flag + 1 :]
                if not value:
                    i += 1
                    value = words[i] if i < len(words) else ""
                if flag == "u":
                    uid = _resolve(value, variables)
                elif flag == "g":
                    gid = _resolve(value, variables)
                break
            if flag == "U":
                envdir = True
            at_flag += 1
        i += 1
    return uid, gid, envdir


def _expand(word: str, variables: dict[str, str]) -> str:
    """$NAME or ${NAME}, set earlier in the script, as its value."""
    m = re.fullmatch(r"\$(?:\{(\w+)\}|(\w+))", word)
    if m is None:
        return word
    return variables.get(m.group(1) or m.group(2), word)


def _substitute(m: "re.Match[str]") -> str:
    command = m.group(1) if m.group(1) is not None else m.group(2)
    found = _ID.match(command)
    if found:
        try:
            pw = pwd.getpwnam(found.group(2))
        except KeyError:
            return str(_UNKNOWN)
        return str(pw.pw_uid if found.group(1) == "u" else pw.pw_gid)
    return str(_UNKNOWN)


def _resolve(value: str, variables: dict[str, str]) -> int:
    """A -u/-g value: a number, or $VAR / ${VAR} holding one; _UNKNOWN
    for anything else."""
    if value.startswith("$"):
        value = variables.get(value.strip("${}"), "")
    return int(value) if value.isdigit() else _UNKNOWN


def _from_envdir(path: str, text: str) -> tuple[int | None, int | None]:
    """tcpserver -U: $UID and $GID, from an envdir (./env, or the one the
    script names) or envuidgid."""
    # envuidgid ACCOUNT, or s6-envuidgid [-u|-g|-B|-n|-i] [-D u:g:gs] ACCOUNT
    m = re.search(r"envuidgid((?:\s+-[ugBni]+|\s+-D\s*\S+)*)\s+(\S+)", text)
    if m:
        try:
            pw = pwd.getpwnam(m.group(2))
        except KeyError:
            return None, None
        return pw.pw_uid, pw.pw_gid
    m = re.search(r"envdir\s+(\S+)", text)
    where = m.group(1) if m else "./env"
    if not where.startswith("/"):
        where = os.path.join(os.path.dirname(path), where)
    values: list[int | None] = []
    for name in ("UID", "GID"):
        try:
            with open(os.path.join(where, name)) as f:
                values.append(int(f.readline().strip()))
        except (OSError, ValueError):
            values.append(None)
    return values[0], values[1]


def _from_xinetd(path: str) -> Identity | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 16)
    except OSError:
        return None
    found = dict(re.findall(r"^\s*(user|group|groups)\s*=\s*(\S+)", text, re.M))
    if "user" not in found:
        return None
    try:
        uid = _uid(found["user"])
        pw_gid = pwd.getpwuid(uid).pw_gid
        gid = _gid(found["group"]) if "group" in found else pw_gid
    except (ValueError, KeyError):
        return None
    groups: tuple[int, ...] = (gid,)
    if found.get("groups") == "yes":
        groups = tuple(os.getgrouplist(user_name(uid), gid))
    return Identity(uid, gid, groups, f"{path}: xinetd user/group")
