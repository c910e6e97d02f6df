"""Fixed vocabularies of the diary entry."""

SYMPTOMS = (
    "fever", "chills", "wound_redness", "wound_swelling", "wound_drainage", "dressing_off",
    "lead_dislodged", "loss_of_stimulation", "uncomfortable_stimulation", "positional_headache",
    "clear_fluid_leak", "neck_stiffness", "new_weakness", "new_numbness", "bladder_bowel_change",
    "urinary_retention", "respiratory_depression", "excessive_sleepiness", "nausea", "vomiting",
    "itching", "leg_swelling", "other",
)
MEDICATION_UNITS = ("mg", "mcg", "mcg/h", "ml")
ROUTES = (
    "oral", "transdermal", "sublingual", "buccal", "intranasal", "intravenous", "intramuscular",
    "subcutaneous", "rectal", "topical", "inhaled", "intrathecal", "epidural",
)
# What a patient may read the diary page, its reminders and emails in (ISO 639-1); the first is the default.
LANGUAGES = ("en", "es")
