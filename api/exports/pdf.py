"""The trial report: a plain, exact document for the chart and the payer's reviewer."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..domain.safety import LABELS
from ..domain.therapies import therapy
from . import TrialRecord
from . import blocks as block_report
from .charts import diary_charts

CRITERIA = {"pain_relief": "Pain relief", "function": "Function", "analgesic_use": "Analgesic use (MME)",
            "side_effects": "Side effects", "patient_global_impression": "Patient global impression (PGIC)"}
DECISIONS = {"implant": "Proceed to permanent implant", "no_implant": "No permanent implant",
             "repeat_trial": "Repeat the trial"}
STATUS = {"met": "Met", "not_met": "Not met", "not_assessed": "Not assessed"}
GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
])


def render(record: TrialRecord) -> bytes:
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8.5, leading=10.5)
    heading = ParagraphStyle("heading", parent=styles["Heading3"], fontSize=10.5, spaceBefore=6, spaceAfter=3)
    trial, patient, evaluation = record.trial, record.patient, record.evaluation
    metrics, protocol = evaluation["metrics"], evaluation["protocol"]
    zone = ZoneInfo(trial.timezone)
    row = therapy(trial.therapy)
    story = [
        Paragraph(f"{row.title}: {'block' if row.is_block else 'trial'} report", styles["Title"]),
        Paragraph(f"{_x(record.clinic_name)}. Generated {_when(record.generated_at, zone)}.", small),
        Spacer(1, 4),
        _banner(evaluation, record.evaluation_stored, row.outcome_words(evaluation["outcome"]).upper()),
        Spacer(1, 6),
        Table([
            # Table cells are plain text (no markup); Paragraph cells wrap and need escaping.
            ["Patient", patient.display_name, "Date of birth", patient.date_of_birth.isoformat()],
            ["MRN", patient.mrn, "Therapy, device",
             Paragraph(_x(f"{trial.therapy.upper()}, {trial.device or 'device not recorded'}"), small)],
            ["Trial start", _when(trial.start_at, zone), "Trial end", _when(trial.end_at, zone)],
            ["Care team", Paragraph(_x(", ".join(_name(u) for u in record.care_team)) or "-", small), "Trial",
             f"#{trial.id}"],
        ], colWidths=[1.0 * inch, 2.4 * inch, 1.1 * inch, 2.4 * inch],
            style=TableStyle([*GRID.getCommands()[:1], ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                              ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                              ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold")])),
        # A block has its own sections (exports/blocks.py) in place of the diary-by-bucket ones.
        *(block_report.report_flowables(record, small, heading) if row.is_block else [
        Paragraph("Baseline and trial", heading),
        Table(_baseline_rows(trial.baseline, metrics), colWidths=[2.2 * inch, 1.4 * inch, 1.4 * inch, 1.9 * inch],
              style=GRID),
        Paragraph("Criteria", heading),
        Table(_criteria_rows(evaluation["criteria"], small), colWidths=[1.9 * inch, 0.8 * inch, 1.6 * inch, 1.6 * inch,
                                                                  1.0 * inch], style=GRID),
        Spacer(1, 3),
        Paragraph(_compliance_text(metrics, protocol), small),
        Paragraph("Diary by " + ("day" if protocol["bucket"] == "day" else "hour"), heading),
        _charts(record),
        ]),
        Paragraph("Safety alerts during the trial", heading),
        _alerts(record, small, zone),
        Paragraph("Decision", heading),
        Paragraph(_decision_text(record, zone), small),
        Spacer(1, 6),
        Paragraph(_footer(evaluation, protocol, zone), ParagraphStyle("foot", parent=small, fontSize=7,
                                                                       textColor=colors.grey)),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=letter, leftMargin=0.7 * inch, rightMargin=0.7 * inch,
                                 topMargin=0.6 * inch, bottomMargin=0.6 * inch,
                                 title=f"Trial report {trial.id}", author="Trial Diary")
    document.build(story)
    return buffer.getvalue()


def _banner(evaluation, stored: bool, outcome: str) -> Table:
    if evaluation["final"]:
        text, colour = f"FINAL RESULT: {outcome}", colors.Color(0.85, 0.93, 0.85)
    else:
        text = f"INTERIM RESULT (trial not over): {outcome}" + ("" if stored else " - computed at report time")
        colour = colors.Color(1, 0.93, 0.8)
    return Table([[text]], colWidths=[6.9 * inch], style=TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colour), ("FONTNAME", (0, 0), (-1, -1), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 11), ("BOX", (0, 0), (-1, -1), 0.8, colors.black)]))


def _baseline_rows(baseline, metrics) -> list[list[str]]:
    relief = metrics.get("pain_relief_percent")
    return [
        ["Measure", "Baseline", "Trial", "Change"],
        ["Pain, NRS 0-10 (mean of daily means)", _n(baseline.get("pain")), _n(metrics.get("trial_pain"), 2),
         "-" if relief is None else f"{relief} % relief"],
        ["Daily morphine equivalents (MME)", _n(metrics.get("baseline_mme")), _n(metrics.get("trial_mme")),
         _unconverted(metrics)],
        ["Oswestry Disability Index (latest)", _n(baseline.get("odi")), _n(metrics.get("latest_odi")), ""],
        ["Pain interference, 0-10", _n(baseline.get("interference")), _n(metrics.get("trial_interference"), 2), ""],
        ["PGIC (latest), 1-7", "", _n(metrics.get("latest_pgic")), ""],
        ["Highest sedation score (POSS)", "", _n(metrics.get("max_sedation_score")), ""],
    ]


def _criteria_rows(criteria, style) -> list[list]:
    rows: list[list] = [["Criterion", "Required", "Value", "Threshold", "Status"]]
    for c in criteria:
        rows.append([CRITERIA.get(c["name"], c["name"]), "yes" if c["required"] else "no",
                     Paragraph(_x(_value(c["value"])), style), Paragraph(_x(_value(c["threshold"])), style),
                     STATUS[c["status"]]])
    return rows


def _compliance_text(metrics, protocol) -> str:
    unit = "days" if protocol["bucket"] == "day" else "hours"
    return (f"Compliance {metrics['compliance']}: entries on {metrics['data_buckets']} of "
            f"{metrics['counted_buckets']} counted {unit} (protocol minimum {protocol['min_compliance']} and "
            f"{protocol['min_data_buckets']} {unit}; the first {protocol['exclude_first_buckets']} left out).")


def _charts(record: TrialRecord) -> Image:
    return Image(io.BytesIO(diary_charts(record, image_format="png")), width=7.0 * inch, height=2.05 * inch)


def _alerts(record: TrialRecord, style, zone) -> Table | Paragraph:
    if not record.alerts:
        return Paragraph("None.", style)
    rows = [["Day", "Alert", "Severity", "Times", "Acknowledged"]]
    for alert in record.alerts:
        by = record.users.get(alert.acknowledged_by)
        acknowledged = (f"{_when(alert.acknowledged_at, zone)} by {_name(by)}" if alert.acknowledged_at
                        else "not acknowledged")
        rows.append([alert.local_day.isoformat(), LABELS.get(alert.rule, alert.rule), alert.severity,
                     str(alert.count or 1), acknowledged])
    return Table(rows, colWidths=[0.9 * inch, 2.3 * inch, 0.8 * inch, 0.6 * inch, 2.3 * inch], style=GRID)


def _decision_text(record: TrialRecord, zone) -> str:
    decision = record.decision
    if decision is None:
        return "No decision recorded yet."
    physician = _name(record.users.get(decision.physician_id))
    return (f"<b>{DECISIONS[decision.decision]}</b>, recorded {_when(decision.decided_at, zone)} by {_x(physician)}."
            f"<br/>Rationale: {_x(decision.rationale)}")


def _footer(evaluation, protocol, zone) -> str:
    reference = f"evaluation #{evaluation['id']}" if evaluation["id"] else "evaluation computed for this report"
    thresholds = ", ".join(f"{k} {v}" for k, v in protocol.items())
    return (f"Figures from {reference} at {_when(evaluation['evaluated_at'], zone)}. Protocol in force: "
            f"{_x(thresholds)}. MME with CDC 2022 factors. Times in {zone.key}.")


def _value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_n(v)}" for k, v in value.items()) or "-"
    return _n(value)


def _unconverted(metrics) -> str:
    names = metrics.get("unconverted_medications") or []
    return f"not converted: {', '.join(names)}" if names else ""


def _n(value, places: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _name(user) -> str:
    if user is None:
        return "unknown"
    return f"{user.display_name or user.email} ({user.role})"


def _x(text: str) -> str:
    """Escape for reportlab's mini-markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
