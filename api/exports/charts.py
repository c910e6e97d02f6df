"""The trial's charts, drawn once: PNG for the PDF report, SVG for the console page.

One function per chart figure; the report and the console call the same ones, so what a physician reads on
screen is what the payer reads on paper.
"""

from __future__ import annotations

import io
from bisect import bisect_right
from datetime import timedelta
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
import matplotlib.pyplot as plt  # noqa: E402

from ..domain.mme import Medication, daily_mme  # noqa: E402
from ..domain.therapies import therapy  # noqa: E402
from . import TrialRecord  # noqa: E402

BASELINE_COLOUR, THRESHOLD_COLOUR, PAIN_COLOUR = "#b22222", "#2e7d32", "#1f4e79"
MAX_TICKS = 8  # labels along a chart's x axis, at most: each panel is about 2.3 inches wide
# The spacing of the x axis's labels, in buckets, chosen from the trial's length: the smallest that keeps
# MAX_TICKS labels or fewer, on a span a clinician counts in (every 6 hours, every day, every week).
TICK_STEPS = {"hour": (1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 96, 168, 336, 720),
              "day": (1, 2, 3, 5, 7, 14, 28, 56)}
PANEL_TITLES = {"pain": "Pain (NRS)", "mme": "Opioid use (MME)", "function": "Function",
                "sedation": "Sedation (Pasero 1-4)"}


def tick_step(count: int, kind: str) -> int:
    """Label every k-th of `count` buckets: the smallest step of TICK_STEPS[kind] that keeps MAX_TICKS or fewer."""
    for step in TICK_STEPS.get(kind, TICK_STEPS["day"]):
        if -(-count // step) <= MAX_TICKS:
            return step
    return -(-count // MAX_TICKS)


def axis_ticks(buckets, kind: str, timezone: str) -> tuple[list[int], list[str]]:
    """Where the x axis is labelled (bucket positions) and its labels, distinct and few at any trial length: dates
    for a diary of days; clock times for one of hours, with the trial day when it spans more than a day."""
    step = tick_step(len(buckets), kind)
    positions = list(range(0, len(buckets), step))
    if kind == "day":
        return positions, [buckets[i].label[5:] for i in positions]
    zone = ZoneInfo(timezone)
    starts = [b.start.astimezone(zone) for b in buckets]
    first = starts[0].date() if starts else None
    long = bool(starts) and starts[-1] - starts[0] >= timedelta(hours=24)
    labels = [f"Day {(starts[i].date() - first).days + 1} {starts[i]:%H:%M}" if long else f"{starts[i]:%H:%M}"
              for i in positions]
    return positions, labels


def trial_charts(record: TrialRecord, *, image_format: str = "png") -> bytes:
    """The charts the therapy's registry row names, for the trial page (svg) and the report (png)."""
    if therapy(record.trial.therapy).charts == ("relief",):
        return block_chart(record, image_format=image_format)
    return diary_charts(record, image_format=image_format)


def diary_charts(record: TrialRecord, *, image_format: str = "png") -> bytes:
    """The therapy's charts by bucket (its registry row names them: pain, opioid use, function or the sedation
    score), against the baseline and the thresholds, as one image (png or svg)."""
    protocol = record.evaluation["protocol"]
    kind = protocol["bucket"]
    buckets = [b for b in record.buckets if b.counted]
    x = list(range(len(buckets)))
    panels = therapy(record.trial.therapy).charts
    figure, axes = plt.subplots(1, len(panels), figsize=(7.2, 2.1), dpi=150, squeeze=False)
    for axis, panel in zip(axes[0], panels, strict=True):
        _PANELS[panel](axis, record, buckets, x, protocol)
    positions, labels = axis_ticks(buckets, kind, record.trial.timezone)
    for axis in axes[0]:
        axis.set_xticks(positions, labels, rotation=45, ha="right", fontsize=5.5)
        axis.set_xlim(-0.5, max(len(x), 1) - 0.5)
        axis.tick_params(axis="y", labelsize=6)
    figure.tight_layout()
    return _rendered(figure, image_format)


def _pain_chart(axis, record: TrialRecord, buckets, x, protocol) -> None:
    baseline_pain = record.trial.baseline["pain"]
    pain = [(i, b.pain) for i, b in zip(x, buckets, strict=True) if b.pain is not None]
    axis.plot([i for i, _ in pain], [p for _, p in pain], marker="o", markersize=2.5 if len(x) > 48 else 4,
              linewidth=1, color=PAIN_COLOUR, label="trial")
    axis.axhline(baseline_pain, color=BASELINE_COLOUR, linestyle="--", linewidth=1, label="baseline")
    axis.axhline(baseline_pain * (1 - protocol["min_pain_relief_percent"] / 100), color=THRESHOLD_COLOUR,
                 linestyle=":", linewidth=1.2, label=f"{protocol['min_pain_relief_percent']:g} % relief")
    axis.set_ylim(0, 10)
    axis.set_title(PANEL_TITLES["pain"], fontsize=8)
    axis.legend(fontsize=5.5, loc="upper right")


def _entries_by_position(record: TrialRecord, buckets) -> dict[int, list]:
    """The valid entries of each drawn bucket, by its position on the x axis."""
    starts = [b.start for b in buckets]
    placed: dict[int, list] = {}
    for e in record.entries:
        if e.voided_at is not None or not starts:
            continue
        i = bisect_right(starts, e.recorded_at) - 1
        if i >= 0 and e.recorded_at < buckets[i].end:
            placed.setdefault(i, []).append(e)
    return placed


def _mme_chart(axis, record: TrialRecord, buckets, x, protocol) -> None:
    """Opioid use by bucket (the evaluation's daily MME; for a diary of hours, the doses recorded in each hour),
    against the baseline; "No opioid recorded" rather than an empty frame."""
    baseline = record.evaluation["metrics"].get("baseline_mme") or record.trial.baseline.get("mme")
    if protocol["bucket"] == "day":
        values = [(i, b.mme) for i, b in zip(x, buckets, strict=True) if b.mme is not None]
        title = "Daily opioid use (MME)"
    else:
        placed = _entries_by_position(record, buckets)
        values = [(i, daily_mme([_medications(e) for e in entries]).mme) for i, entries in sorted(placed.items())
                  if any(_medications(e) for e in entries)]
        title = "Opioid doses by hour (MME)"
    axis.set_title(title, fontsize=8)
    if not any(v for _, v in values) and not baseline:
        axis.text(0.5, 0.5, "No opioid recorded", ha="center", va="center", fontsize=7, transform=axis.transAxes)
        axis.set_yticks([])
        return
    axis.bar([i for i, _ in values], [v for _, v in values], color="#6d6d6d", label="trial")
    if baseline:
        axis.axhline(baseline, color=BASELINE_COLOUR, linestyle="--", linewidth=1, label="baseline")
    axis.set_ylim(0, max([baseline or 0, *(v for _, v in values)]) * 1.15 or 1)
    axis.legend(fontsize=5.5, loc="upper right")


def _medications(entry) -> list[Medication]:
    return [Medication(m["name"], m["dose"], m["unit"], m.get("route")) for m in entry.content.get("medications") or ()]


def _sedation_chart(axis, record: TrialRecord, buckets, x, protocol) -> None:
    """The highest sedation score of each bucket against the highest acceptable one: an intrathecal trial's safety
    measure."""
    placed = _entries_by_position(record, buckets)
    scores = [(i, max(s)) for i, entries in sorted(placed.items())
              if (s := [e.content["sedation_score"] for e in entries if e.content.get("sedation_score") is not None])]
    axis.set_title(PANEL_TITLES["sedation"], fontsize=8)
    axis.set_ylim(0.5, 4.5)
    axis.set_yticks([1, 2, 3, 4])
    if not scores:
        axis.text(0.5, 0.5, "No sedation score recorded", ha="center", va="center", fontsize=7,
                  transform=axis.transAxes)
        return
    axis.plot([i for i, _ in scores], [v for _, v in scores], marker="D", markersize=3, linewidth=0.8,
              color="#8a5a00", label="highest in the hour" if protocol["bucket"] == "hour" else "highest")
    limit = protocol.get("max_sedation_score")
    if limit is not None:
        axis.axhline(limit, color=THRESHOLD_COLOUR, linestyle=":", linewidth=1.2, label=f"acceptable: {limit:g}")
    axis.legend(fontsize=5.5, loc="upper right")


def _function_chart(axis, record: TrialRecord, buckets, x, protocol) -> None:
    """Pain interference per bucket when recorded; otherwise the ODI scores, by day, against baseline."""
    baseline = record.trial.baseline
    interference = [(i, b.interference) for i, b in zip(x, buckets, strict=True) if b.interference is not None]
    if interference or protocol["bucket"] != "day":
        axis.plot([i for i, _ in interference], [v for _, v in interference], marker="s", color="#7b3f99")
        if baseline.get("interference") is not None:
            axis.axhline(baseline["interference"], color=BASELINE_COLOUR, linestyle="--", linewidth=1)
        axis.set_ylim(0, 10)
        axis.set_title("Function: interference 0-10", fontsize=8)
        return
    position = {b.label: i for i, b in zip(x, buckets, strict=True)}
    zone = ZoneInfo(record.trial.timezone)
    odi = [(position[label], e.content["function"]["odi"]) for e in record.entries
           if e.voided_at is None and (e.content.get("function") or {}).get("odi") is not None
           and (label := e.recorded_at.astimezone(zone).date().isoformat()) in position]
    axis.plot([i for i, _ in odi], [v for _, v in odi], marker="s", linestyle="none", color="#7b3f99")
    if baseline.get("odi") is not None:
        axis.axhline(baseline["odi"], color=BASELINE_COLOUR, linestyle="--", linewidth=1)
    axis.set_ylim(0, 100)
    axis.set_title("Function: ODI % (dashed: baseline)", fontsize=8)


_PANELS = {"pain": _pain_chart, "mme": _mme_chart, "function": _function_chart, "sedation": _sedation_chart}


RUN_COLOUR = "#e07b00"


def block_chart(record: TrialRecord, *, image_format: str = "png") -> bytes:
    """A block's relief over time (minutes, then hours after the block) against the threshold, with the response
    run drawn, the onset window and the duration the agent asks for (png or svg)."""
    protocol = record.evaluation["protocol"]
    points = record.timepoints
    threshold = protocol["min_relief_percent"]
    hours = [t.minutes / 60 for t in points]
    reliefs = [t.relief for t in points]
    end = max([(record.trial.end_at - record.trial.start_at).total_seconds() / 3600, *hours, 1.0])
    figure, axis = plt.subplots(figsize=(7.2, 2.4), dpi=150)
    axis.axvspan(0, protocol["onset_window_minutes"] / 60, color="#f2f2f2", label="onset window")
    axis.plot(hours, reliefs, marker="o", color=PAIN_COLOUR, linewidth=1, markersize=3.5, label="relief")
    run = [(h, r) for h, r, t in zip(hours, reliefs, points, strict=True) if t.in_run]
    if run:
        axis.plot([h for h, _ in run], [r for _, r in run], color=RUN_COLOUR, linewidth=3, alpha=0.8,
                  solid_capstyle="round", label=f"response run ({run[-1][0]:.2f} h)")
    axis.axhline(threshold, color=THRESHOLD_COLOUR, linestyle=":", linewidth=1.2, label=f"{threshold:g} % threshold")
    if protocol.get("min_relief_hours") is not None:
        axis.axvline(protocol["min_relief_hours"], color=BASELINE_COLOUR, linestyle="--", linewidth=1,
                     label=f"{protocol['min_relief_hours']:g} h asked")
    step = tick_step(int(end), "hour")  # the first hour's quarters, then hours, spaced on a long diary
    ticks = ([0.25, 0.5, 0.75] if step == 1 else [0]) + list(range(step, int(end) + 1, step))
    axis.set_xticks(ticks, [f"{round(t * 60)} min" if t < 1 else f"{t:g} h" for t in ticks], fontsize=6, rotation=45)
    axis.set_xlim(0, end + 0.1)
    axis.set_ylim(min(0, *reliefs) - 5 if reliefs else -5, 105)
    axis.set_ylabel("Relief %", fontsize=7)
    axis.set_xlabel("After the block", fontsize=7)
    axis.tick_params(axis="y", labelsize=6)
    axis.legend(fontsize=5.5, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # never over the data
    figure.tight_layout()
    return _rendered(figure, image_format)


def _rendered(figure, image_format: str) -> bytes:
    if image_format not in ("png", "svg"):
        raise ValueError(image_format)
    buffer = io.BytesIO()
    # SVG: text as paths would be unreadable to screen readers and heavy; keep it as text.
    with plt.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format=image_format)
    plt.close(figure)
    return buffer.getvalue()
