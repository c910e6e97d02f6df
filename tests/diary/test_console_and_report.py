"""What the care team sees of the diary page: the QR code is the diary's enrollment link, the patient's language
is on the console, their goals are on the trial page and in the report."""

from __future__ import annotations

import re

from tests.api.test_decision_and_exports import pdf_text
from tests.console.helpers import console_user

from .helpers import diary_page


def test_the_care_team_sees_the_language_the_goals_and_a_qr_link_to_the_diary(app, world):
    diary_page(app, world.patient).patch("me", {"goals": ["walk to the mailbox", "sleep through the night"],
                                                "language": "es"})
    nurse = console_user(app, world.nurse)
    trial = nurse.get(f"/console/trials/{world.trial_id}").get_data(as_text=True)
    assert "walk to the mailbox" in trial and "sleep through the night" in trial and "Spanish" in trial
    patient = nurse.get(f"/console/patients/{world.patient_id}").get_data(as_text=True)
    assert re.search(r"<dt>Language</dt><dd>Spanish</dd>", patient)
    code_page = nurse.post(f"/console/patients/{world.patient_id}/code", page=f"/console/patients/{world.patient_id}",
                           follow_redirects=True)  # post/redirect/get: the code is on the page it redirects to
    html = code_page.get_data(as_text=True)
    code = re.search(r"data-enrollment-code>([A-Z0-9-]+)<", html).group(1)
    assert f"{app.config['PUBLIC_BASE_URL']}/diary/enroll" in html and code not in html.split("<svg")[1]
    text, _ = pdf_text(world.as_nurse.get(f"/trials/{world.trial_id}/report.pdf"))
    assert "Patient's own goals for the trial: 1) walk to the mailbox; 2) sleep through the night." in " ".join(
        text.split())
