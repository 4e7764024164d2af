"""Stand-ins for a C simscan install: binaries that hold the strings the
real ones hold (read from a simscan 1.4.6.2 built with these options:
its configured paths, and the literals of the code each option compiles
in), and no code of them.

Built with gcc as a small C program whose only data is the strings, so
they sit in .rodata as in the real binary; without gcc, as an ELF magic
and the strings between junk (no section headers: read whole).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# What every simscan 1.4 binary has, whatever its options.
COMMON = [
    "simscan version: %s",
    "simscan:[%d]:%s:%3.4fs:%s:%s:%s:%s",
    "simscan:[%d]:%s (%.2f/%.2f/%.2f):%3.4fs:%s:%s:%s:%s",
    "SIMSCAN_DEBUG",
    "SIMSCAN_DEBUG_FILES",
    "%ld.%ld.%ld",
    "%s/%s",
    "clamdscan",
    "--stdout",
    "--disable-qmail-bounce",
    "ripmime",
    "CLEAN",
    "none",
    "TCPREMOTEIP",
    "addr.%s",
    "simscan:[%d]: done, execing qmail-queue",
    "simscan:[%d]: qmail-queue exited %d",
]
# The literals of the code each option compiles in.
TRACES = {
    "clamav": ["FOUND", "VIRUS", "simscan:[%d]: clamdscan detected a virus"],
    "attach": ["ATTACH", "simscan:[%d]: checking attachment %s against %s"],
    "per_domain": ["%s/simcontrol.cdb", "simscan:[%d]: cdb looking up %s", "spam_hits"],
    "ssattach": ["%s/ssattach"],  # attach without per_domain
    "custom_smtp_reject": [
        "DYour email was rejected because it contains the %s virus",
        "DYour email was rejected because it contains a bad attachment: %s",
        "DYour email is considered spam (%.2f spam-hits)",
    ],
    "dropmsg": ["VIRUS DROPPED", "SPAM DROPPED", "simscan: droping the message"],
    "spam": [
        "X-Spam-Flag: YES",
        "X-Spam-Status: Yes",
        "hits=",
        "score=",
        "required=",
        "SPAM REJECT",
        "simscan:[%d]: calling spamc",
        "simscan:[%d]: calling %s ",
    ],
    "no_spam_auth_user": ["RELAYCLIENT"],
    "spam_hits": [
        "SPAM PASS",
        "simscan: PDHits: %.2f tmpHits: %.2f, SpamHits: %.2f, IsSpam: %d, PerDomainHits: %d",
    ],
    "spam_passthru": ["PASSTHRU"],
    "size_limit": [
        "simscan: size limit is %d bytes",
        "simscan: big file (%lu bytes); size limit is %d bytes; skipping SpamAssassin",
    ],
    "simsizelimit": ["%s/simsizelimit"],
    "received": [
        "Received: (simscan %s ppid %d pid %d t %.4fs)",
        " (scanners: %s); %02d %s %04d %02d:%02d:%02d -0000",
        "%s/simversions.cdb",
    ],
    "regex": ["REGEX", "DYour email was rejected because it matches a filter (%s)"],
    "quarantine": ["simscan:[%d]: Putting the message in quarantine: %s"],
    "trophie": ["simscan:[%d]: trophie found virus"],
    "dspam": ["X-DSPAM-Result:", "--feature=chained,noise"],
}
# simscanmk 1.4.6.2, and what it holds for --enable-received.
MK_COMMON = [
    "usage: simscanmk [-g]",
    "simscan versions cdb file built. %s",
    "simscan cdb file built. %s/simcontrol.cdb",
    "%s/simcontrol",
    "error running sigtool",
    "/main.inc/main.info",
]


def simscan_strings(version: str, paths: list[str], options: list[str]) -> list[str]:
    """The strings of a simscan binary: COMMON, the version, the paths
    configure compiled in, and the traces of `options`."""
    out = [*COMMON, version, *paths]
    for option in options:
        out += TRACES[option]
    return out


def build(path: Path, strings: list[str], gcc: bool = True) -> Path:
    """A binary at `path` holding `strings` (stripped, as installed)."""
    if gcc and shutil.which("gcc"):
        source = path.with_name(path.name + ".c")
        items = ",\n".join(_c_string(s) for s in strings)
        source.write_text(
            "static const char *const strings[] = {\n"
            f"{items}\n}};\n"
            "int main(int argc, char **argv) {\n"
            "    (void)argv;\n"
            f"    return strings[argc % {len(strings)}][0];\n"
            "}\n"
        )
        subprocess.run(["gcc", "-O2", "-s", "-o", str(path), str(source)], check=True)
        source.unlink()
    else:
        path.write_bytes(junk_elf(strings))
        path.chmod(0o755)
    return path


def junk_elf(strings: list[str]) -> bytes:
    """An ELF magic, then the strings between bytes that are no text."""
    junk = bytes(range(0x80, 0x90))
    body = b"".join(junk + s.encode() + b"\0" for s in strings)
    return b"\x7fELF\x02\x01\x01" + b"\0" * 9 + body + junk


def setuid(path: Path, user: str = "nobody") -> str:
    """Make `path` setuid as `make install` did (mode 4711), to `user`
    when we can give it away (root), else to ourselves; returns the user."""
    import pwd

    if os.geteuid() == 0:
        os.chown(path, pwd.getpwnam(user).pw_uid, -1)
    path.chmod(0o4711)
    return pwd.getpwuid(path.stat().st_uid).pw_name


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tiny_elf(sections: list[tuple[str, int, int, bytes]], wide: bool, big: bool) -> bytes:
    """An ELF with section headers and these sections: (name, sh_type,
    sh_flags, contents); each at address 0x1000 + its file offset."""
    import struct

    order = ">" if big else "<"
    names = b"\0" + b"".join(n.encode() + b"\0" for n, *_ in sections) + b".shstrtab\0"
    body = bytearray(b"\x7fELF" + bytes([2 if wide else 1, 2 if big else 1, 1]) + b"\0" * 9)
    body += b"\0" * ((0x40 if wide else 0x34) - len(body))
    placed = []
    for name, kind, flags, data in [*sections, (".shstrtab", 3, 0, names)]:
        placed.append((names.index(name.encode() + b"\0"), kind, flags, len(body), data))
        body += data
    shoff = len(body)
    layout = order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
    for name_at, kind, flags, offset, data in [(0, 0, 0, 0, b""), *placed]:
        body += struct.pack(layout, name_at, kind, flags, 0x1000 + offset, offset, len(data),
                            0, 0, 1, 0)  # fmt: skip
    size = struct.calcsize(layout)
    if wide:
        struct.pack_into(order + "Q", body, 0x28, shoff)
        struct.pack_into(order + "HHH", body, 0x3A, size, len(placed) + 1, len(placed))
    else:
        struct.pack_into(order + "I", body, 0x20, shoff)
        struct.pack_into(order + "HHH", body, 0x2E, size, len(placed) + 1, len(placed))
    return bytes(body)
