"""Quarantine: keep a copy of every refused or dropped message.

Each message gets its own directory `QUARANTINEDIR/<sec>.<usec>.<pid>` (the
work dir's unique name) holding

    message   the message as it would have been queued
    envelope  the envelope as qmail-queue reads it on fd 1
    verdict   one line: the log line simscan wrote for it

so that `qmail-queue < message 1< envelope` delivers it after all.  The
directory is built under a dot-name and renamed into place, so anyone
reading the quarantine sees whole entries only.  The message is hard-linked
from the work dir when both are on one file system, else copied.
"""

import os

from . import workdir


def store(directory: str, name: str, message_path: str, envelope: bytes, verdict: bytes) -> str:
    """Quarantine one message; returns the entry's path.  Raises OSError
    or WorkDirError (and leaves nothing behind) when it cannot."""
    final = f"{directory}/{name}"
    temp = f"{directory}/.{name}.tmp"
    os.mkdir(temp, 0o750)
    try:
        _link_or_copy(message_path, f"{temp}/message")
        workdir.write_file(f"{temp}/envelope", envelope)
        workdir.write_file(f"{temp}/verdict", verdict)
        os.rename(temp, final)
    except BaseException:
        workdir.remove(temp)
        raise
    return final


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
        return
    except OSError:
        pass
    with open(source, "rb") as src, open(target, "xb") as dst:
        offset = 0
        while sent := os.sendfile(dst.fileno(), src.fileno(), offset, 1 << 20):
            offset += sent
