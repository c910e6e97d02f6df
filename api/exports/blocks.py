"""A block trial's own pieces of the report (docs/blocks.md "Reports and exports"): the block and its target, the
two criteria in words, relief over time with the run drawn, the target's pathway. pdf.py calls these for block
trials; the FHIR Bundle's block Procedure and timepoints are in fhir/ (bundle.py, diary.py)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Image, Paragraph, Table, TableStyle

from ..domain.therapies import REGISTRY
from . import TrialRecord
from .charts import block_chart
from .wording import criterion_sentence, criterion_title, next_step_words, number, outcome_words

GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def target_words(target: dict[str, Any] | None) -> str:
    """"lumbar, left, L4-L5 and L5-S1": the target as a clinician writes it."""
    if not target:
        return "-"
    levels = target.get("levels") or []
    parts = [target["region"], target["side"]] + ([" and ".join(levels)] if levels else [])
    return ", ".join(parts)


# --- the report ----------------------------------------------------------------------------------------------

def report_flowables(record: TrialRecord, text_style, heading_style) -> list[Flowable]:
    """The block's sections of the PDF report, in place of the diary-by-bucket sections of other trials."""
    trial, evaluation = record.trial, record.evaluation
    metrics, protocol = evaluation["metrics"], evaluation["protocol"]
    zone = ZoneInfo(trial.timezone)
    measure = ("the patient's own relief estimate" if protocol["relief_measure"] == "reported"
               else "pain score against the pre-block pain")
    block = Table([
        ["Block", "", "", ""],
        ["Target", target_words(trial.target), "Agent", trial.agent or "-"],
        ["Given at", _when(trial.start_at, zone), "Diary until", _when(trial.end_at, zone)],
        ["Pre-block pain (NRS 0-10)", number(trial.baseline.get("pain")), "Relief measured by", measure],
    ], colWidths=[1.6 * inch, 2.0 * inch, 1.3 * inch, 2.0 * inch], style=GRID)
    criteria = [Paragraph(f"<b>{_x(criterion_title(c))}</b>: {_x(criterion_sentence(c))}", text_style)
                for c in evaluation["criteria"]]
    return [
        Paragraph("The block", heading_style), block,
        Paragraph("Criteria", heading_style), *criteria,
        Paragraph(_x(_figures(metrics, protocol, zone)), text_style),
        Paragraph("Relief after the block", heading_style),
        Image(io.BytesIO(block_chart(record, image_format="png")), width=7.0 * inch, height=2.33 * inch),
        Paragraph(f"Pathway of this target ({_x(target_words(_side_only(trial.target)))})", heading_style),
        *_pathway(record, text_style, zone),
    ]


def _figures(metrics: dict[str, Any], protocol: dict[str, Any], zone: ZoneInfo) -> str:
    count = f"{metrics['timepoints']} timepoint(s) recorded (protocol minimum {protocol['min_timepoints']})"
    if metrics.get("onset_minutes") is None:
        return (f"{count}; relief never reached {number(protocol['min_relief_percent'])} % within "
                f"{protocol['onset_window_minutes']} minutes of the block, so there is no response run.")
    start = _when(datetime.fromisoformat(metrics["run_start_at"]), zone, time_only=True)
    end = _when(datetime.fromisoformat(metrics["run_end_at"]), zone, time_only=True)
    return (f"{count}; relief reached {number(protocol['min_relief_percent'])} % "
            f"{number(metrics['onset_minutes'])} minutes after the block and stayed there from {start} to {end}.")


def _pathway(record: TrialRecord, style, zone: ZoneInfo) -> list[Flowable]:
    row = record.pathway
    if not row:
        return [Paragraph("No other block of this target.", style)]
    rows = [["Trial", "Block", "Levels", "Given", "Final result"]]
    for item in row["blocks"]:
        result = outcome_words(item["outcome"], item["therapy"]) if item["outcome"] else "no final result yet"
        flag = " (over the yearly limit)" if item["frequency_exceeded"] else ""
        rows.append([f"#{item['trial_id']}" + (" (this)" if item["trial_id"] == record.trial.id else ""),
                     REGISTRY[item["therapy"]].short, ", ".join(item["levels"]) or "-",
                     _when(item["start_at"], zone), result + flag])
    table = Table(rows, colWidths=[0.9 * inch, 1.5 * inch, 1.2 * inch, 1.6 * inch, 1.7 * inch], style=GRID)
    return [table, Paragraph(f"<b>Next step</b>: {_x(next_step_words(row['next_step']))}.", style)]


def _side_only(target: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if not target else {"region": target["region"], "side": target["side"]}


def _when(moment: datetime, zone: ZoneInfo, *, time_only: bool = False) -> str:
    return moment.astimezone(zone).strftime("%H:%M" if time_only else "%Y-%m-%d %H:%M %Z")


def _x(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
