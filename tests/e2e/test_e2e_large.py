"""End to end: a 50 MB message streams through without being held in memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness import Site, measured, simscan_command
from test_e2e_basic import ENV


def make_message(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = bytes(range(256)) * 256  # 64 KiB of every byte value
    with path.open("wb") as f:
        head = b"Subject: big\n\n"
        f.write(head)
        digest.update(head)
        left = size - len(head)
        while left > 0:
            chunk = block[:left]
            f.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def test_50mb_message_passes_intact_in_little_memory(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    want = make_message(path, 50 * 1024 * 1024)
    for received in (False, True):
        site.configure(received=received)
        rss = tmp_path / "maxrss"
        out = site.run(path, ENV, command=measured(simscan_command(), rss))
        assert out.exit_code == 0
        rec = out.records[-1]
        body = rec.message.split(b"\n", 2)[2] if received else rec.message
        assert hashlib.sha256(body).hexdigest() == want
        # Peak RSS of simscan itself: an interpreter plus buffers, not the
        # message.  (Measured and printed by bench/bench.py; this only
        # guards against reading the message whole.)
        assert int(rss.read_text()) < 40 * 1024
        site.clear_queue()
