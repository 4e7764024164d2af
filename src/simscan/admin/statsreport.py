"""simscan stats' two outputs: the text an admin reads, and the Prometheus
text format (through prometheus_client) for node_exporter's textfile
collector.  Both show one Tally."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING, TextIO

from .tally import SCORE_BUCKETS, SECONDS_BUCKETS, Tally, percentile

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

BAR = 40  # the longest bar, in characters
# The usual order of the states (README, "The log line"); others after.
ORDER = (
    "CLEAN", "SPAM PASS", "PASSTHRU", "RELAYCLIENT", "SPAM REJECT", "SPAM DROPPED",
    "SPAM DEFER", "VIRUS", "VIRUS DROPPED", "ATTACH", "REGEX",
)  # fmt: skip


def states(tally: Tally) -> list[str]:
    known = [s for s in ORDER if s in tally.verdicts]
    return known + sorted(s for s in tally.verdicts if s not in ORDER)


def when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def bar(count: int, most: int) -> str:
    return "#" * (max(1, round(count * BAR / most)) if count else 0)


def write_text(tally: Tally, out: TextIO, top: int, since: float | None) -> None:
    sections = (
        _summary(tally, since),
        _verdicts(tally),
        _top("Top virus names", tally.viruses, top),
        _top("Top blocked attachments", tally.attachments, top),
        _top("Top blocked extensions", tally.extensions, top),
        _scores(tally),
        _times(tally),
        _volume(tally),
        _top("Top sender IPs", tally.ips, top),
        _notices(tally, top),
    )
    out.write("\n\n".join("\n".join(lines) for lines in sections if lines) + "\n")


def _summary(tally: Tally, since: float | None) -> list[str]:
    notices = sum(tally.notices.values())
    lines = [
        f"{tally.messages} messages (verdict lines), {notices} warning, note and debug "
        f"lines; {tally.other} other lines skipped"
    ]
    if since is not None:
        lines.append(
            f"since {when(since)}: left out {tally.older_left_out} older lines and "
            f"{tally.unstamped_left_out} without a time stamp"
        )
    if tally.first is not None and tally.last is not None:
        lines.append(f"from {when(tally.first)} to {when(tally.last)}")
    if tally.unstamped:
        lines.append(f"{tally.unstamped} simscan lines have no time stamp")
    f = tally.formats
    lines.append(
        f"lines only this simscan writes: {f['ours']}, only the C simscan: {f['c']}, "
        f"either: {f['either']}"
    )
    if f["c"]:
        lines.append(
            "(the C simscan wrote two lines for a virus found after a spam scan, "
            "CLEAN with the score and then VIRUS: such a message counts under both)"
        )
    return lines


def _verdicts(tally: Tally) -> list[str]:
    if not tally.messages:
        return ["Messages per verdict: none"]
    lines = ["Messages per verdict"]
    for state in states(tally):
        n = tally.verdicts[state]
        lines.append(f"  {state:<15} {n:>8}  {100 * n / tally.messages:5.1f}%")
    return lines


def _top(title: str, counts: dict[str, int], top: int) -> list[str]:
    if not counts:
        return []
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = min(50, max(len(k) for k, _ in ranked[:top]))
    lines = [title] + [f"  {k or '(empty)':<{width}} {n:>8}" for k, n in ranked[:top]]
    if len(ranked) > top:
        rest = sum(n for _, n in ranked[top:])
        lines.append(f"  {f'({len(ranked) - top} more)':<{width}} {rest:>8}")
    return lines


def score_bins(scores: list[float]) -> list[tuple[str, int]]:
    """(label, count) per score bucket, as Prometheus counts them (a score
    goes in the first bucket it is <= the top of): `<= 0`, `0 .. 1`
    (over -5, up to 0), ..., `> 100`."""
    counts = [0] * (len(SCORE_BUCKETS) + 1)
    for s in scores:
        counts[next((i for i, b in enumerate(SCORE_BUCKETS) if s <= b), len(SCORE_BUCKETS))] += 1
    labels = [f"<= {SCORE_BUCKETS[0]:g}"]
    labels += [f"{a:g} .. {b:g}" for a, b in pairwise(SCORE_BUCKETS)]
    labels.append(f"> {SCORE_BUCKETS[-1]:g}")
    return list(zip(labels, counts, strict=True))


def _scores(tally: Tally) -> list[str]:
    if not tally.scores:
        return []
    bins = score_bins(tally.scores)
    most = max(n for _, n in bins)
    lines = [f"Spam scores ({len(tally.scores)} messages scanned; `a .. b`: over a, up to b)"]
    lines += [f"  {label:>10} {n:>8} {bar(n, most)}" for label, n in bins]
    return lines


def _times(tally: Tally) -> list[str]:
    if not tally.seconds:
        return []
    lines = [f"  {'Scan time (s)':<15} {'messages':>8} {'p50':>9} {'p95':>9} {'p99':>9}"]
    for state in states(tally):
        values = sorted(tally.seconds.get(state, []))
        if values:
            p = [f"{percentile(values, q):9.4f}" for q in (50, 95, 99)]
            lines.append(f"  {state:<15} {len(values):>8} {' '.join(p)}")
    return lines


def _volume(tally: Tally) -> list[str]:
    if not tally.hours:
        return ["Volume per hour: the lines have no time stamps"]
    first, last = min(tally.hours), max(tally.hours)
    step, unit = (1, "hour") if last - first < 72 else (24, "day (over 72 hours of log)")
    buckets: dict[int, int] = {}
    for hour, n in tally.hours.items():
        start = hour - (hour - first) % step
        buckets[start] = buckets.get(start, 0) + n
    most = max(buckets.values())
    lines = [f"Messages per {unit}, UTC"]
    fmt = "%Y-%m-%d %H:00" if step == 1 else "%Y-%m-%d"
    for start in range(first, last + 1, step):
        n = buckets.get(start, 0)
        lines.append(f"  {time.strftime(fmt, time.gmtime(start * 3600))} {n:>8} {bar(n, most)}")
    return lines


def _notices(tally: Tally, top: int) -> list[str]:
    if not tally.notices:
        return []
    lines = ["Warnings and notes by kind (numbers as N, paths as PATH, ... )"]
    ranked = sorted(tally.notices.items(), key=lambda kv: (-kv[1], kv[0]))
    for (level, kind), n in ranked[: top * 2]:
        lines.append(f"  {n:>8} {level + ':':<8} {kind}")
    if len(ranked) > top * 2:
        lines.append(f"  {sum(n for _, n in ranked[top * 2 :]):>8} in {len(ranked) - top * 2} more")
    return lines


def write_prometheus(tally: Tally, path: str, top: int) -> None:
    """Through prometheus_client, to a temp file in path's directory that
    is then renamed over path (write_to_textfile), so node_exporter never
    reads half a file."""
    from prometheus_client import CollectorRegistry, write_to_textfile

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_collector(tally, top))
    write_to_textfile(path, registry)


def _collector(tally: Tally, top: int) -> Collector:
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )

    def families() -> Iterator[Metric]:
        messages = CounterMetricFamily(
            "simscan_messages", "Messages per verdict (log state)", labels=["verdict"]
        )
        for state in states(tally):
            messages.add_metric([state], tally.verdicts[state])
        yield messages
        seconds = HistogramMetricFamily(
            "simscan_scan_seconds", "Scan time per verdict", labels=["verdict"]
        )
        for state in states(tally):
            values = tally.seconds.get(state, [])
            seconds.add_metric([state], _buckets(values, SECONDS_BUCKETS), sum(values))
        yield seconds
        score = HistogramMetricFamily("simscan_spam_score", "Spam scores of scanned messages")
        score.add_metric([], _buckets(tally.scores, SCORE_BUCKETS), sum(tally.scores))
        yield score
        for name, doc, label, counts in (
            ("simscan_viruses", "VIRUS lines per virus name", "name", tally.viruses),
            ("simscan_attachments", "ATTACH lines per extension", "extension", tally.extensions),
        ):
            family = CounterMetricFamily(name, f"{doc} (top {top}, then (other))", labels=[label])
            for key, n in _bounded(counts, top):
                family.add_metric([key], n)
            yield family
        warnings = CounterMetricFamily(
            "simscan_warnings", "Warning, note and debug lines by kind", labels=["level", "kind"]
        )
        notices = {f"{level}\0{kind}": n for (level, kind), n in tally.notices.items()}
        for key, n in _bounded(notices, top * 2):
            level, _, kind = key.rpartition("\0")
            warnings.add_metric([level or "any", kind], n)
        yield warnings
        lines = CounterMetricFamily("simscan_log_lines", "Log lines read", labels=["kind"])
        lines.add_metric(["simscan"], tally.messages + sum(tally.notices.values()))
        lines.add_metric(["other"], tally.other)
        yield lines
        if tally.last is not None:
            yield GaugeMetricFamily(
                "simscan_log_last_timestamp_seconds",
                "Time stamp of the last simscan line read",
                value=tally.last,
            )

    class _Families:
        def collect(self) -> Iterator[Metric]:
            return families()

    return _Families()


def _buckets(values: list[float], bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    """Cumulative counts per `le`, +Inf last, as Prometheus histograms are."""
    out = [(repr(b), float(sum(v <= b for v in values))) for b in bounds]
    return [*out, ("+Inf", float(len(values)))]


def _bounded(counts: dict[str, int], top: int) -> list[tuple[str, int]]:
    """The top entries, and the rest added up as `(other)`: a label per
    virus name or warning text would grow without bound."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    rest = sum(n for _, n in ranked[top:])
    return ranked[:top] + ([("(other)", rest)] if rest else [])
