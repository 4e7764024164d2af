"""simscan stats' arithmetic: Records in, counts out (no I/O), so that
the text report and the Prometheus file show the same numbers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from .logparse import VERDICT, Record, kind_of, parse_line

# Upper bounds of the histograms' buckets (Prometheus `le`: a value v is
# counted in the first bucket with v <= le), shared by both outputs.
SCORE_BUCKETS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 50.0, 100.0)
SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Tally:
    """Everything the report shows, added up one Record at a time."""

    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.formats: Counter[str] = Counter()
        self.viruses: Counter[str] = Counter()
        self.attachments: Counter[str] = Counter()
        self.extensions: Counter[str] = Counter()
        self.ips: Counter[str] = Counter()
        self.hours: Counter[int] = Counter()
        self.notices: Counter[tuple[str, str]] = Counter()
        self.seconds: dict[str, list[float]] = {}
        self.scores: list[float] = []
        self.other = 0
        self.unstamped = 0
        self.unstamped_left_out = 0
        self.older_left_out = 0
        self.first: float | None = None
        self.last: float | None = None

    def add(self, record: Record) -> None:
        if record.stamp is not None:
            self.first = record.stamp if self.first is None else min(self.first, record.stamp)
            self.last = record.stamp if self.last is None else max(self.last, record.stamp)
        else:
            self.unstamped += 1
        self.formats[record.format] += 1
        if record.kind != VERDICT:
            self.notices[record.kind, kind_of(record.detail)] += 1
            return
        state = record.state
        self.verdicts[state] += 1
        if record.seconds is not None:
            self.seconds.setdefault(state, []).append(record.seconds)
        if record.score is not None:
            self.scores.append(record.score)
        if record.stamp is not None:
            self.hours[int(record.stamp // 3600)] += 1
        if record.ip is not None:
            self.ips[record.ip] += 1
        if state.startswith("VIRUS"):
            self.viruses[record.detail] += 1
        elif state == "ATTACH":
            self.attachments[record.detail] += 1
            self.extensions[extension(record.detail)] += 1

    @property
    def messages(self) -> int:
        return sum(self.verdicts.values())


def extension(detail: str) -> str:
    """The extension of the innermost name of an ATTACH detail:
    `invoice.zip/docs/setup.exe` -> `.exe`, `report.pdf (executable)` ->
    `.pdf`; `(none)` when the name has none (or the detail is no name)."""
    name = detail.split(" (", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext or len(ext) > 10 or not ext.isalnum():
        return "(none)"
    return "." + ext.lower()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of them at or below it."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def tally(lines: Iterable[str], since: float | None, now: float) -> Tally:
    result = Tally()
    for line in lines:
        record = parse_line(line, now)
        if record is None:
            result.other += 1
        elif since is not None and record.stamp is None:
            result.unstamped_left_out += 1
        elif since is not None and record.stamp is not None and record.stamp < since:
            result.older_left_out += 1
        else:
            result.add(record)
    return result
