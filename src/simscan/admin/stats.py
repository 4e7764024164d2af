"""simscan stats: summarise simscan's log lines (this program's and the C
simscan's) from multilog, syslog or plain logs.

Reads stdin, or each LOG: a file, or a multilog directory (its rotated
@*.s and @*.u files in time order, then `current`).  Prints messages per
verdict, top virus names, blocked attachments, a spam score histogram,
scan times, volume per hour, top sender IPs and warnings by kind;
--prometheus also writes them for node_exporter's textfile collector.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "logs",
        nargs="*",
        metavar="LOG",
        help="a log file, or a multilog directory (default: stdin)",
    )
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="only lines stamped at or after TIME: an ISO date or time (local time "
        "unless it has a zone, e.g. 2026-12-05 or 2026-12-05T17:00Z) or an age "
        "(30m, 24h, 7d, 2w); lines without a stamp are then left out",
    )
    parser.add_argument(
        "--prometheus",
        metavar="FILE",
        help="also write the counters and histograms to FILE in Prometheus' text "
        "format (written to a temp file beside it and renamed)",
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="lines in each top list (default 10)"
    )


def since_time(text: str, now: float) -> float:
    """--since's TIME as Unix time: an age (30m, 24h, 7d, 2w) or ISO."""
    import re
    from datetime import datetime

    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw])", text.strip())
    if m:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]
        return now - float(m.group(1)) * unit
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected an ISO date or time (2026-12-05, "
            "2026-12-05T17:00, 2026-12-05T17:00Z) or an age (30m, 24h, 7d, 2w)"
        ) from None
    return when.timestamp()  # a naive time is local time, as `date` shows it


def log_files(paths: list[str]) -> Iterator[str]:
    """The files to read, a multilog directory as its rotated files in
    name order (their names are tai64n stamps) and then `current`."""
    import os

    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        names = sorted(
            n for n in os.listdir(path) if n.startswith("@") and n.endswith((".s", ".u"))
        )
        if os.path.exists(os.path.join(path, "current")):
            names.append("current")
        yield from (os.path.join(path, n) for n in names)


def read_lines(paths: list[str], stdin: Iterable[bytes]) -> Iterator[str]:
    if not paths:
        for raw in stdin:
            yield raw.decode("utf-8", "replace")
        return
    for path in log_files(paths):
        with open(path, "rb") as f:
            for raw in f:
                yield raw.decode("utf-8", "replace")


def run(args: argparse.Namespace) -> int:
    import time

    from . import statsreport
    from .tally import tally

    now = time.time()
    try:
        since = None if args.since is None else since_time(args.since, now)
    except ValueError as err:
        print(f"simscan stats: {err}", file=sys.stderr)
        return 2
    try:
        result = tally(read_lines(args.logs, sys.stdin.buffer), since, now)
    except OSError as err:
        print(f"simscan stats: cannot read {err.filename} ({err.strerror})", file=sys.stderr)
        return 1
    out: TextIO = sys.stdout
    statsreport.write_text(result, out, max(1, args.top), since)
    if args.prometheus:
        try:
            statsreport.write_prometheus(result, args.prometheus, max(1, args.top))
        except OSError as err:
            print(f"simscan stats: cannot write {args.prometheus} ({err})", file=sys.stderr)
            return 1
    return 0
