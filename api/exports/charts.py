"""The trial's charts, drawn once: PNG for the PDF report, SVG for the console page.

One function per chart figure; the report and the console call the same ones, so what a physician reads on
screen is what the payer reads on paper.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
import matplotlib.pyplot as plt  # noqa: E402

from . import TrialRecord  # noqa: E402

BASELINE_COLOUR, THRESHOLD_COLOUR, PAIN_COLOUR = "#b22222", "#2e7d32", "#1f4e79"


def diary_charts(record: TrialRecord, *, image_format: str = "png") -> bytes:
    """Pain, MME and function by bucket against the baseline and the threshold, as one image (png or svg)."""
    protocol = record.evaluation["protocol"]
    buckets = [b for b in record.buckets if b.counted]
    labels = [b.label[5:] if protocol["bucket"] == "day" else b.label.replace("hour ", "h") for b in buckets]
    x = list(range(len(buckets)))
    baseline_pain = record.trial.baseline["pain"]
    figure, axes = plt.subplots(1, 3, figsize=(7.2, 2.1), dpi=150)
    pain = [b.pain for b in buckets]
    axes[0].plot([i for i, p in zip(x, pain, strict=True) if p is not None], [p for p in pain if p is not None],
                 marker="o", color=PAIN_COLOUR, label="trial")
    axes[0].axhline(baseline_pain, color=BASELINE_COLOUR, linestyle="--", linewidth=1, label="baseline")
    axes[0].axhline(baseline_pain * (1 - protocol["min_pain_relief_percent"] / 100), color=THRESHOLD_COLOUR,
                    linestyle=":", linewidth=1.2, label=f"{protocol['min_pain_relief_percent']:g} % relief")
    axes[0].set_ylim(0, 10)
    axes[0].set_title("Pain (NRS)", fontsize=8)
    axes[0].legend(fontsize=5.5, loc="upper right")
    if protocol["bucket"] == "day":
        axes[1].bar(x, [b.mme or 0 for b in buckets], color="#6d6d6d")
        if record.evaluation["metrics"].get("baseline_mme") is not None:
            axes[1].axhline(record.evaluation["metrics"]["baseline_mme"], color=BASELINE_COLOUR, linestyle="--",
                            linewidth=1)
        axes[1].set_title("Daily MME (dashed: baseline)", fontsize=8)
    else:
        axes[1].text(0.5, 0.5, "MME is not computed\nfor hourly diaries", ha="center", va="center", fontsize=7,
                     transform=axes[1].transAxes)
        axes[1].set_title("MME", fontsize=8)
    _function_chart(axes[2], record, buckets, x, protocol)
    for axis in axes:
        axis.set_xticks(x, labels, rotation=45, fontsize=5.5)
        axis.tick_params(axis="y", labelsize=6)
    figure.tight_layout()
    return _rendered(figure, image_format)


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
    ticks = [m / 60 for m in (15, 30, 45)] + list(range(1, int(end) + 1))
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
