"""The codes of the FHIR export: the external code systems it uses (each code checked against a maintained source,
docs/payer-packet.md says which), and the project's own code systems, published as CodeSystem resources at
`<PUBLIC_BASE_URL>/api/v1/fhir/CodeSystem/<name>` (their canonical URLs, served by the app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain.blocks import AGENTS
from ...domain.documentation import SCREENING_RESULTS
from ...domain.forms import SYMPTOM_WORDS
from ...domain.therapies import CRITERIA, REGISTRY, STANDARD_DECISIONS
from ...domain.vocabulary import SYMPTOMS
from ..wording import OUTCOMES, STATUS, TITLES

FHIR_VERSION = "4.0.1"
US_CORE_VERSION = "6.1.0"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
NPI = "http://hl7.org/fhir/sid/us-npi"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
URI = "urn:ietf:rfc:3986"  # Identifier.system of a globally unique URI (here urn:uuid:...)
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
DIAGNOSTIC_SECTION = "http://terminology.hl7.org/CodeSystem/v2-0074"
US_CORE_DOCUMENT_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"

# LOINC: only codes whose meaning matches the diary's question exactly (docs/payer-packet.md lists the fields that
# have none). 72514-3 is the 0-10 numeric pain rating the diary asks; 8310-5 the body temperature of US Core's Body
# Temperature profile; 41950-7 the daily step count (as HL7's Physical Activity IG uses it); 28570-0 the document
# type of the report (a procedure note: the trial is a procedure and the report its result and decision).
PAIN_SEVERITY = {"system": LOINC, "code": "72514-3",
                 "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}
BODY_TEMPERATURE = {"system": LOINC, "code": "8310-5", "display": "Body temperature"}
DAILY_STEPS = {"system": LOINC, "code": "41950-7", "display": "Number of steps in 24 hour Measured"}
PROCEDURE_NOTE = {"system": LOINC, "code": "28570-0", "display": "Procedure note"}

# RxNorm ingredients of the generics the MME table knows (domain/mme.py), as HL7's CDC opioid MME guide codes its
# conversion factors (CodeSystem CDCMMEClinicalConversionFactors, a supplement of RxNorm).
RXNORM_INGREDIENTS = {
    "codeine": "2670", "fentanyl": "4337", "hydrocodone": "5489", "hydromorphone": "3423", "methadone": "6813",
    "morphine": "7052", "oxycodone": "7804", "oxymorphone": "7814", "tapentadol": "787390", "tramadol": "10689",
}
# Routes of the diary (domain/vocabulary.ROUTES) as SNOMED CT route-of-administration qualifiers.
SNOMED_ROUTES = {
    "oral": ("26643006", "Oral route"), "transdermal": ("45890007", "Transdermal route"),
    "sublingual": ("37839007", "Sublingual route"), "buccal": ("54471007", "Buccal route"),
    "intranasal": ("46713006", "Nasal route"), "intravenous": ("47625008", "Intravenous route"),
    "intramuscular": ("78421000", "Intramuscular route"), "subcutaneous": ("34206005", "Subcutaneous route"),
    "rectal": ("37161004", "Per rectum"), "topical": ("6064005", "Topical route"),
    "inhaled": ("447694001", "Respiratory tract route"), "intrathecal": ("72607000", "Intrathecal route"),
    "epidural": ("404820008", "Epidural route"),
}
# The diary's medication units as UCUM codes; mcg/h is a rate (a patch), the others a dose.
UCUM_UNITS = {"mg": "mg", "mcg": "ug", "ml": "mL", "mcg/h": "ug/h"}
RATE_UNITS = frozenset({"mcg/h"})


def category(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}


SURVEY = category("survey", "Survey")
VITAL_SIGNS = category("vital-signs", "Vital Signs")
EXAM = category("exam", "Exam")
THERAPY = category("therapy", "Therapy")


def quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


# --- the project's own code systems ------------------------------------------------------------------------

@dataclass(frozen=True)
class CodeSystemDefinition:
    name: str  # the last segment of its canonical URL
    title: str
    description: str
    concepts: tuple[tuple[str, str, str], ...]  # (code, display, definition)

    def display(self, code: str) -> str:
        return next((display for c, display, _ in self.concepts if c == code), code.replace("_", " "))


def _same(pairs) -> tuple[tuple[str, str, str], ...]:
    return tuple((code, display, display) for code, display in pairs)


DIARY_MEASURE = CodeSystemDefinition(
    "diary-measure", "Trial diary measures",
    "What a patient answers in the trial diary, where no LOINC code asks the same question.",
    (
        ("diary-entry", "Diary entry", "One diary entry: the patient's answers at one moment, and their note."),
        ("pain-worst-24h", "Worst pain in the last 24 hours (0-10)",
         "The patient's worst pain in the last 24 hours on the 0-10 numeric rating scale."),
        ("pain-least-24h", "Least pain in the last 24 hours (0-10)",
         "The patient's least pain in the last 24 hours on the 0-10 numeric rating scale."),
        ("pain-relief-percent", "Relief of the usual pain (%)",
         "How much of the usual pain has gone away, in percent, as the patient estimates it."),
        ("pain-interference", "Pain interference with daily activities (0-10)",
         "How much pain got in the way of daily activities, 0 (not at all) to 10 (completely)."),
        ("oswestry-disability-index", "Oswestry Disability Index (%)", "The Oswestry Disability Index, 0-100 %."),
        ("sleep-hours", "Hours slept last night", "Hours the patient slept last night, as they report it."),
        ("sedation-score", "Pasero Opioid-induced Sedation Scale (1-4)",
         "1 awake and alert, 2 slightly drowsy and easily aroused, 3 frequently drowsy and drifting off to sleep "
         "during conversation, 4 somnolent with minimal or no response to stimulation."),
        ("pgic", "Patient's global impression of change (1-7)",
         "1 very much improved, 2 much improved, 3 minimally improved, 4 no change, 5 minimally worse, 6 much "
         "worse, 7 very much worse, since the trial started."),
        ("stimulation-coverage", "Stimulation coverage of the painful area (%)",
         "How much of the painful area the stimulation covers, in percent, as the patient estimates it."),
        ("stimulation-satisfaction", "Satisfaction with the stimulation (0-10)",
         "0 not at all satisfied to 10 completely satisfied."),
        ("stimulation-program", "Stimulation program in use", "The stimulator program the patient used."),
        ("minutes-after-block", "Minutes after the block", "Time from the block to the diary entry, in minutes."),
        ("relief-after-block", "Relief from the pre-block pain (%)",
         "Relief after a diagnostic block against the pre-block pain, by the protocol's relief measure."),
    ),
)
SYMPTOM = CodeSystemDefinition(
    "symptom", "Symptoms a trial patient reports",
    "The diary's symptom checklist, in the words the patient reads.",
    tuple((code, SYMPTOM_WORDS[code], SYMPTOM_WORDS[code]) for code in SYMPTOMS),
)
METRICS = {
    "pain_relief_percent": "Pain relief against the baseline (%)", "trial_pain": "Mean pain during the trial (0-10)",
    "compliance": "Diary compliance (0-1)", "trial_mme": "Mean daily morphine milligram equivalents during the trial",
    "trial_interference": "Mean pain interference during the trial (0-10)",
}
TRIAL_EVALUATION = CodeSystemDefinition(
    "trial-evaluation", "Trial evaluation",
    "The trial's evaluation: its outcome, the figures it rests on and each criterion judged.",
    (
        ("trial-outcome", "Trial outcome", "The outcome of the trial or the block by its protocol's criteria."),
        ("trial-report", "Trial report", "The trial report: documentation, result by criterion, and decision."),
        *((key, words, words) for key, words in METRICS.items()),
        *((f"criterion-{name}", TITLES.get(name, name.replace("_", " ").capitalize()),
           f"The criterion {TITLES.get(name, name).lower()}: what was measured against what threshold.")
          for name in CRITERIA),
    ),
)
TRIAL_OUTCOME = CodeSystemDefinition("trial-outcome", "Trial outcomes",
                                     "The outcome of a trial; for a block, success is a positive block.",
                                     _same(OUTCOMES.items()))
CRITERION_STATUS = CodeSystemDefinition("criterion-status", "Criterion status",
                                        "Whether a criterion of the trial's protocol was met.", _same(STATUS.items()))
DECISION = CodeSystemDefinition(
    "decision", "Decision after the trial",
    "The physician's decision after the trial; for a block, proceeding to the treatment the block tested.",
    (("trial-decision", "Decision after the trial", "The physician's decision after the trial or the block."),
     *_same(STANDARD_DECISIONS)),
)
DOCUMENTATION = CodeSystemDefinition(
    "documentation", "Pre-trial documentation",
    "What coverage policies ask to see documented before an implant.",
    (("psychological-evaluation", "Psychological evaluation before an implant",
      "Whether a psychological evaluation cleared the patient for the implant."),
     ("substance-use-screening", "Substance use screening", "The result of a substance use screening."),
     ("life-expectancy", "Estimated life expectancy", "The physician's estimate of the patient's life expectancy.")),
)
SCREENING_RESULT = CodeSystemDefinition("screening-result", "Substance use screening results",
                                        "The result of a substance use screening.",
                                        _same(SCREENING_RESULTS.items()))
THERAPY_CODES = CodeSystemDefinition("therapy", "Trial therapies", "The therapies and diagnostic blocks trialled.",
                                     _same((name, row.title) for name, row in REGISTRY.items()))
LOCAL_ANAESTHETIC = CodeSystemDefinition("local-anaesthetic", "Local anaesthetics of a diagnostic block",
                                         "The local anaesthetic given in a diagnostic block.",
                                         _same((agent, agent) for agent in AGENTS))
CODE_SYSTEMS = {system.name: system for system in (
    DIARY_MEASURE, SYMPTOM, TRIAL_EVALUATION, TRIAL_OUTCOME, CRITERION_STATUS, DECISION, DOCUMENTATION,
    SCREENING_RESULT, THERAPY_CODES, LOCAL_ANAESTHETIC)}


def canonical(base: str, system: CodeSystemDefinition) -> str:
    """The code system's canonical URL: where the app serves it (resources/terminology)."""
    return f"{base}/CodeSystem/{system.name}"


def fhir_base(public_base_url: str) -> str:
    return f"{public_base_url.rstrip('/')}/api/v1/fhir"


def coding(base: str, system: CodeSystemDefinition, code: str) -> dict[str, Any]:
    return {"system": canonical(base, system), "code": code, "display": system.display(code)}


def code_system(base: str, system: CodeSystemDefinition) -> dict[str, Any]:
    """The CodeSystem resource (R4) of one of the project's code systems."""
    url = canonical(base, system)
    return {
        "resourceType": "CodeSystem", "id": system.name,
        "meta": {"profile": [f"http://hl7.org/fhir/StructureDefinition/CodeSystem|{FHIR_VERSION}"]},
        "url": url, "identifier": [{"system": URI, "value": url}], "version": "1",
        "name": "".join(part.capitalize() for part in system.name.split("-")), "title": system.title,
        "status": "active", "experimental": False, "publisher": "Trial Diary", "description": system.description,
        "caseSensitive": True, "content": "complete", "count": len(system.concepts),
        "concept": [{"code": code, "display": display, "definition": definition}
                    for code, display, definition in system.concepts],
    }
