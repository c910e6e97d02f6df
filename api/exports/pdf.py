"""The trial report: a clinical document for the chart and the payer's reviewer.

Every page carries the clinic's letterhead (name, address, NPI), the patient's identifiers and "Page N of M".
Every table cell is a Paragraph, so text wraps inside its cell, and long tables repeat their header row on each
page. The criteria and the thresholds read as sentences (wording.py); the first page says what documentation a
payer will find missing; the decision carries its attestation and electronic signature (docs/payer-packet.md).
"""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..domain.readiness import described
from ..domain.safety import LABELS
from ..domain.therapies import therapy
from . import TrialRecord
from . import blocks as block_report
from .charts import trial_charts
from .wording import (
    NEVER_RECORDED,
    criterion_finding,
    criterion_title,
    decision_words,
    diary_coverage,
    diary_timeliness,
    missing_data,
    number,
    protocol_sentences,
    recorded_measures,
)

STATUS = {"met": "Met", "not_met": "Not met", "not_assessed": "Not assessed"}
READINESS = {"documented": "Documented", "missing": "MISSING", "not_met": "NOT MET"}
PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 0.7 * inch
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
FOOTER_HEIGHT = 0.55 * inch
GREY = colors.Color(0.92, 0.92, 0.92)

_styles = getSampleStyleSheet()
CELL = ParagraphStyle("cell", parent=_styles["Normal"], fontSize=8.5, leading=10.5)
CELL_BOLD = ParagraphStyle("cell-bold", parent=CELL, fontName="Helvetica-Bold")
SMALL = ParagraphStyle("small", parent=CELL)
NOTE = ParagraphStyle("note", parent=CELL, fontSize=7.5, leading=9.5, textColor=colors.Color(0.3, 0.3, 0.3))
HEADING = ParagraphStyle("heading", parent=_styles["Heading3"], fontSize=10.5, spaceBefore=7, spaceAfter=3)
TITLE = ParagraphStyle("title", parent=_styles["Title"], fontSize=16, leading=19, spaceAfter=4)
BANNER = ParagraphStyle("banner", parent=CELL, fontName="Helvetica-Bold", fontSize=11.5, leading=14)
LETTERHEAD = ParagraphStyle("letterhead", parent=CELL, fontSize=8, leading=10)
GRID = [
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
]
HEADER_ROW = [("BACKGROUND", (0, 0), (-1, 0), GREY)]


def render(record: TrialRecord) -> bytes:
    """The report as PDF bytes."""
    trial, evaluation = record.trial, record.evaluation
    zone = ZoneInfo(trial.timezone)
    letterhead = _letterhead(record)
    _, letterhead_height = letterhead.wrap(BODY_WIDTH, PAGE_HEIGHT)
    row = therapy(trial.therapy)
    story = [
        Paragraph(_x(f"{row.title} report"), TITLE),
        _banner(record, zone),
        *_goals(record),
        Spacer(1, 5),
        *_missing_box(record),
        _patient_table(record, zone),
        Paragraph("Pre-trial documentation", HEADING),
        *_documentation(record),
        # A block has its own sections (exports/blocks.py) in place of the diary-by-bucket ones.
        *(block_report.report_flowables(record, SMALL, HEADING) if row.is_block else [
            Paragraph("Baseline and trial", HEADING),
            _table(_baseline_rows(trial.baseline, evaluation["metrics"]), [2.6, 1.2, 1.2, 2.1]),
            Paragraph("Criteria", HEADING),
            _table(_criteria_rows(evaluation["criteria"]), [1.45, 4.55, 1.1]),
            Spacer(1, 3),
            Paragraph(_x(_compliance_text(record)), SMALL),
            KeepTogether([Paragraph("Diary by " + ("day" if evaluation["protocol"].get("bucket") == "day" else "hour"),
                                    HEADING), _charts(record)]),
        ]),
        *_measures(record),
        *_timeliness(record, zone),
        Paragraph("Safety alerts during the trial", HEADING),
        _alerts(record, zone),
        KeepTogether([Paragraph("Decision", HEADING), *_decision(record, zone)]),
        Spacer(1, 8),
        *_notes(record, zone),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=letter, leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=0.45 * inch + letterhead_height + 0.15 * inch, bottomMargin=FOOTER_HEIGHT + 0.2 * inch,
        title=f"Trial report {trial.id}", author=record.clinic_name, creator="Trial Diary")
    footer = _x(f"{record.patient.display_name} - MRN {record.patient.mrn} - born "
                f"{record.patient.date_of_birth.isoformat()} - trial #{trial.id} - generated "
                f"{_when(record.generated_at, zone)}")

    def decorate(canvas, _document):
        canvas.saveState()
        letterhead.wrapOn(canvas, BODY_WIDTH, PAGE_HEIGHT)
        letterhead.drawOn(canvas, MARGIN, PAGE_HEIGHT - 0.45 * inch - letterhead_height)
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, PAGE_HEIGHT - 0.45 * inch - letterhead_height - 4, PAGE_WIDTH - MARGIN,
                    PAGE_HEIGHT - 0.45 * inch - letterhead_height - 4)
        line = Paragraph(footer, NOTE)
        line.wrapOn(canvas, BODY_WIDTH - 1.0 * inch, FOOTER_HEIGHT)
        line.drawOn(canvas, MARGIN, 0.4 * inch)
        canvas.restoreState()

    document.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


class _NumberedCanvas(pdf_canvas.Canvas):
    """Holds every page until the end, so that each can say "Page N of M"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number_, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(colors.Color(0.3, 0.3, 0.3))
            self.drawRightString(PAGE_WIDTH - MARGIN, 0.4 * inch + 1, f"Page {number_} of {total}")
            super().showPage()
        super().save()


def _letterhead(record: TrialRecord) -> Paragraph:
    lines = [f"<b>{_x(record.clinic_name)}</b>"]
    if record.clinic_address:
        lines.append(_x(", ".join(line.strip(" ,") for line in record.clinic_address.splitlines() if line.strip(" ,"))))
    lines.append(f"Clinic NPI {_x(record.clinic_npi)}" if record.clinic_npi else "Clinic NPI not recorded")
    return Paragraph("<br/>".join(lines), LETTERHEAD)


def _banner(record: TrialRecord, zone: ZoneInfo) -> Table:
    """FINAL once the final evaluation exists; a decision on an interim evaluation says so, and why."""
    evaluation, decision = record.evaluation, record.decision
    outcome = therapy(record.trial.therapy).outcome_words(evaluation["outcome"]).upper()
    computed = "" if record.evaluation_stored else " (computed at report time)"
    explanation = None
    if evaluation["final"]:
        text, colour = f"FINAL RESULT: {outcome}{computed}", colors.Color(0.85, 0.93, 0.85)
    elif decision is not None:
        text, colour = f"RESULT AT DECISION: {outcome} (interim evaluation)", colors.Color(1, 0.93, 0.8)
        explanation = (
            f"The decision was recorded on {_when(decision.decided_at, zone)}, before the trial's planned end "
            f"({_when(record.trial.end_at, zone)}), for example because the trial lead was removed early. It rests "
            f"on the interim evaluation of {_when(evaluation['evaluated_at'], zone)}. Recording the decision closed "
            f"the diary, so no final evaluation will follow.")
    elif record.generated_at and record.generated_at >= record.trial.end_at:
        text = f"INTERIM RESULT (final evaluation pending): {outcome}{computed}"
        colour = colors.Color(1, 0.93, 0.8)
    else:
        text, colour = f"INTERIM RESULT (trial not over): {outcome}{computed}", colors.Color(1, 0.93, 0.8)
    rows = [[Paragraph(_x(text), BANNER)]]
    if missing := missing_data(evaluation):
        rows.append([Paragraph(_x(missing), CELL)])
    if explanation:
        rows.append([Paragraph(_x(explanation), CELL)])
    return Table(rows, colWidths=[BODY_WIDTH], style=TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colour), ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))


def _goals(record: TrialRecord) -> list:
    """The patient's own goals (the diary page), beside the result: what the relief was meant to give back."""
    goals = record.patient.goals or []
    if not goals:
        return []
    listed = "; ".join(f"{i}) {goal}" for i, goal in enumerate(goals, 1))
    return [Spacer(1, 3), Paragraph(_x(f"Patient's own goals for the trial: {listed}."), SMALL)]


def _missing_box(record: TrialRecord) -> list:
    readiness = record.readiness
    if not readiness or readiness["ready"]:
        return []
    items = "".join(f"<br/>- {_x(line)}" for line in readiness["missing"])
    sources = ", ".join(readiness["sources"]) or "the clinic's requirements"
    text = (f"<b>Documentation a payer will ask for is incomplete</b> ({_x(sources)}). What is missing:"
            f"{items}")
    return [Table([[Paragraph(text, CELL)]], colWidths=[BODY_WIDTH], splitInRow=1, style=TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.Color(1, 0.9, 0.88)), ("BOX", (0, 0), (-1, -1), 0.8, colors.darkred),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)])), Spacer(1, 5)]


def _patient_table(record: TrialRecord, zone: ZoneInfo) -> Table:
    trial, patient = record.trial, record.patient
    row = therapy(trial.therapy)
    rows = [
        ["Patient", patient.display_name, "Date of birth", patient.date_of_birth.isoformat()],
        ["MRN", patient.mrn, "Therapy, device", f"{row.short}, {trial.device or 'device not recorded'}"],
        ["Trial start", _when(trial.start_at, zone), "Trial end", _when(trial.end_at, zone)],
        ["Care team", ", ".join(_name(u) for u in record.care_team) or "-", "Trial", f"#{trial.id}"],
    ]
    cells = [[Paragraph(_x(v), CELL_BOLD if i % 2 == 0 else CELL) for i, v in enumerate(row)] for row in rows]
    widths = [w * inch for w in (1.0, 2.5, 1.1, 2.5)]
    return Table(cells, colWidths=widths, splitInRow=_taller_than_a_page(cells, widths), style=TableStyle(GRID))


def _documentation(record: TrialRecord) -> list:
    readiness = record.readiness
    flowables: list = []
    if readiness and readiness["items"]:
        rows = [["Item a payer asks for", "What the record shows", "Status"]]
        rows += [[item["label"], _Lines(item["detail"].split("; ")), READINESS[item["status"]]]
                 for item in readiness["items"]]
        table = _table(rows, [1.9, 4.2, 1.0])
        for index, item in enumerate(readiness["items"], start=1):
            if item["status"] != "documented":
                table.setStyle(TableStyle([("BACKGROUND", (2, index), (2, index), colors.Color(1, 0.85, 0.82))]))
        flowables.append(table)
        if readiness["sources"]:
            flowables.append(Paragraph(_x(f"Items asked for by {', '.join(readiness['sources'])}, as this clinic "
                                          f"applies them."), NOTE))
    extra = _other_documentation(record.documentation, readiness)
    if extra:
        flowables += [Spacer(1, 3), _table([["Also documented", ""], *extra], [1.9, 5.2])]
    if not flowables:
        flowables.append(Paragraph("No pre-trial documentation recorded.", SMALL))
    return flowables


def _other_documentation(doc: dict, readiness: dict | None) -> list[list[str]]:
    """What is documented but not on the checklist (the clinic does not ask for it for this therapy)."""
    listed = {item["key"] for item in (readiness or {}).get("items", ())}
    return [[item.label, item.detail] for item in described(doc) if item.key not in listed]


def _baseline_rows(baseline, metrics) -> list[list[str]]:
    relief = metrics.get("pain_relief_percent")
    return [
        ["Measure", "Baseline", "Trial", "Change"],
        ["Pain, NRS 0-10 (mean of daily means)", number(baseline.get("pain")), number(metrics.get("trial_pain"), 2),
         "-" if relief is None else f"{number(relief)} % relief"],
        ["Daily morphine milligram equivalents (MME)", number(metrics.get("baseline_mme")),
         number(metrics.get("trial_mme")), _unconverted(metrics)],
        ["Oswestry Disability Index, % (latest)", number(baseline.get("odi")), number(metrics.get("latest_odi")),
         _change(baseline.get("odi"), metrics.get("latest_odi"), "points")],
        ["Pain interference, 0-10", number(baseline.get("interference")),
         number(metrics.get("trial_interference"), 2),
         _change(baseline.get("interference"), metrics.get("trial_interference"), "points")],
        ["Patient's global impression of change (latest), 1-7", "", number(metrics.get("latest_pgic")), ""],
        ["Highest sedation score (Pasero, 1-4)", "", number(metrics.get("max_sedation_score")), ""],
    ]


def _change(before, after, unit: str) -> str:
    if before is None or after is None:
        return ""
    difference = before - after
    return f"{number(abs(difference), 2)} {unit} {'better' if difference > 0 else 'worse'}" if difference else "same"


def _criteria_rows(criteria) -> list[list[str]]:
    rows = [["Criterion", "Finding", "Status"]]
    for c in criteria:
        rows.append([criterion_title(c), criterion_finding(c),
                     f"{STATUS[c['status']]} ({'required' if c['required'] else 'not required'})"])
    return rows


def _compliance_text(record: TrialRecord) -> str:
    evaluation = record.evaluation
    protocol = evaluation["protocol"]
    unit = "days" if protocol.get("bucket") == "day" else "hours"
    first = protocol["exclude_first_buckets"]
    single = unit[:-1]
    left_out = (f"the first {single} ({'the implant day' if single == 'day' else 'right after the bolus'}) was left "
                f"out" if first == 1 else f"the first {first} {unit} were left out" if first else
                f"no {single} was left out")
    return f"Diary: {diary_coverage(evaluation)} In the count, {left_out}.{_nothing_else(record)}"


def _nothing_else(record: TrialRecord) -> str:
    rows = recorded_measures(record)
    if len(rows) == 1 and rows[0][0] == NEVER_RECORDED:
        return " Beyond the pain score, the patient recorded none of the other measures the diary asks."
    return ""


def _charts(record: TrialRecord) -> Image:
    return Image(io.BytesIO(trial_charts(record, image_format="png")), width=BODY_WIDTH, height=BODY_WIDTH * 2.1 / 7.2)


def _measures(record: TrialRecord) -> list:
    """What the patient recorded beyond the evaluation, summarised (the trial page shows the same rows)."""
    rows = recorded_measures(record)
    if not rows:
        return []
    if len(rows) == 1 and rows[0][0] == NEVER_RECORDED:
        return []  # said in a sentence of the diary's paragraph (_compliance_text), not as an empty table
    return [Paragraph("What the patient recorded", HEADING),
            _table([["Measure", "Over the trial"], *[list(row) for row in rows]], [2.9, 4.2])]


def _timeliness(record: TrialRecord, zone: ZoneInfo) -> list:
    """The share of the diary sent in time, and the late entries with when they were received."""
    late, sentence = diary_timeliness(record.trial.therapy, record.entries)
    made = [Paragraph("Diary timeliness", HEADING), Paragraph(_x(sentence), SMALL)]
    if late:
        rows = [["Entry recorded", "Received (late)", "Pain"]] + [
            [_when(e.recorded_at, zone), _when(e.received_at, zone), f"{e.content['pain']['score']} / 10"]
            for e in record.entries if e.id in late]
        made += [Spacer(1, 3), _table(rows, [2.4, 2.4, 2.3])]
    return made


def _alerts(record: TrialRecord, zone: ZoneInfo) -> Table | Paragraph:
    if not record.alerts:
        return Paragraph("None.", SMALL)
    rows = [["Day", "Alert", "Severity", "Times", "Acknowledged"]]
    for alert in record.alerts:
        by = record.users.get(alert.acknowledged_by)
        acknowledged = (f"{_when(alert.acknowledged_at, zone)} by {_name(by)}" if alert.acknowledged_at
                        else "not acknowledged")
        if alert.acknowledgement_note:
            acknowledged += f": {alert.acknowledgement_note}"
        rows.append([alert.local_day.isoformat(), LABELS.get(alert.rule, alert.rule.replace("_", " ")),
                     f"{alert.severity}{' (expected)' if alert.status == 'expected' else ''}", str(alert.count or 1),
                     acknowledged])
    return _table(rows, [0.85, 1.75, 0.7, 0.5, 3.3])


def _decision(record: TrialRecord, zone: ZoneInfo) -> list:
    decision = record.decision
    if decision is None:
        return [Paragraph("No decision recorded yet.", SMALL)]
    physician = _name(record.users.get(decision.physician_id))
    rationale = "<br/>".join(_x(line) for line in decision.rationale.splitlines())
    made = [Paragraph(f"<b>{_x(decision_words(decision.decision, record.trial.therapy))}</b>, recorded "
                      f"{_when(decision.decided_at, zone)} by {_x(physician)}.<br/>Rationale: {rationale}", SMALL)]
    if decision.attestation is None:
        made.append(Paragraph("Recorded before electronic signatures: no attestation is attached.", NOTE))
        return made
    if decision.report_sha256:
        fingerprint = (f"SHA-256 of the signed original report (kept with the decision, downloadable from the "
                       f"trial's page):<br/><font name='Courier'>{decision.report_sha256}</font>")
    else:
        fingerprint = ("This document is the signed original: the SHA-256 of its bytes is recorded with the "
                       "signature and printed on every later copy of the report.")
    text = (f"<b>Physician attestation</b><br/>{_x(decision.attestation)}<br/><br/>"
            f"<b>Electronically signed</b> by {_x(decision.signer_name)}, NPI {_x(decision.signer_npi)}, on "
            f"{_when(decision.decided_at, zone)}.<br/>{fingerprint}")
    made.append(Spacer(1, 4))
    made.append(Table([[Paragraph(text, CELL)]], colWidths=[BODY_WIDTH], style=TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.8, colors.black), ("BACKGROUND", (0, 0), (-1, -1), colors.Color(0.96, 0.96, 1)),
        ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)])))
    return made


def _notes(record: TrialRecord, zone: ZoneInfo) -> list:
    evaluation = record.evaluation
    reference = f"evaluation #{evaluation['id']}" if evaluation["id"] else "an evaluation computed for this report"
    thresholds = " ".join(protocol_sentences(evaluation["protocol"]))
    return [Paragraph(_x(f"Figures from {reference} of {_when(evaluation['evaluated_at'], zone)}. Thresholds in "
                         f"force: {thresholds} Morphine milligram equivalents use the CDC 2022 factors. Times are "
                         f"in {zone.key}."), NOTE)]


def _table(rows: list[list[str]], widths_in_inches: list[float]) -> Table:
    """A grid of wrapped text whose first row is a header, repeated on every page the table spans."""
    cells = [[Paragraph(_x(v) if not isinstance(v, _Lines) else "<br/>".join(_x(line) for line in v),
                        CELL_BOLD if r == 0 else CELL) for v in row] for r, row in enumerate(rows)]
    widths = [w * inch for w in widths_in_inches]
    return Table(cells, colWidths=widths, repeatRows=1, splitInRow=_taller_than_a_page(cells, widths),
                 style=TableStyle(GRID + HEADER_ROW))


class _Lines(list):
    """A cell's text as separate lines (several codes or treatments), each starting on a new line."""


def _taller_than_a_page(cells: list[list[Paragraph]], widths: list[float]) -> int:
    """1 when a row cannot fit on a page (thirty long treatments in one cell): reportlab must then split inside it.

    Only then: splitting inside rows also repeats the header above the split row, mid-page, so ordinary tables
    keep whole rows and move them to the next page instead.
    """
    room = PAGE_HEIGHT - 2.5 * inch  # the frame, less the tallest letterhead and the footer
    for row in cells:
        if max(p.wrap(w - 8, PAGE_HEIGHT)[1] for p, w in zip(row, widths, strict=True)) + 6 > room:
            return 1
    return 0


def _unconverted(metrics) -> str:
    names = metrics.get("unconverted_medications") or []
    return f"not converted: {', '.join(names)}" if names else ""


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _name(user) -> str:
    if user is None:
        return "unknown"
    return f"{user.display_name or user.email} ({user.role})"


def _x(text) -> str:
    """Escape for reportlab's mini-markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
