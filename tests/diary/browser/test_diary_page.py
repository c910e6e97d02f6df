"""A patient's diary in Chromium on a phone, offline and back: enrolled from the QR link, one entry online, five
offline (one a red flag: the call-now panel shows at once), a reload offline from the service worker, back online
with the page closed in the middle of sending; exactly the entries saved are stored, none twice; a double tap
stores one; the care team's alert follows. A session that ended while offline keeps its queue until the patient
signs in again.

Every wait has a deadline (Playwright's own); nothing sleeps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from api.domain import texting
from api.extensions import db
from api.models import AuthSession, Patient, SignInLink, User

from ...integration.conftest import wait_for
from .conftest import CLINIC_PHONE, CLINIC_PHONE_READ, PHONE, api_as, stored_entries

pytestmark = pytest.mark.integration

WAIT = 30_000  # ms: the longest any one step may take
expect.set_options(timeout=WAIT)


def _open_phone(browser, **options):
    context = browser.new_context(**{**PHONE, **options})
    context.set_default_timeout(WAIT)
    return context, context.new_page()


def _controlled(page) -> None:
    """The service worker controls the page and keeps its form: the page can now open with no network. (Waited
    for inside the page, with a deadline: the page's CSP rightly refuses the eval of Playwright's polling.)"""
    assert page.evaluate("""async (deadline) => {
        const until = Date.now() + deadline;
        const kept = async () => {
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                if ((await cache.keys()).some(request => request.url.includes('/diary/forms/'))) return true;
            }
            return false;
        };
        while (Date.now() < until) {
            if (navigator.serviceWorker.controller && await kept()) return true;
            await new Promise(resolve => setTimeout(resolve, 100));
        }
        return false;
    }""", WAIT)


def _record(page, score: int, *, symptoms=(), double_tap: bool = False) -> None:
    page.get_by_role("link", name="Record how you feel now").click()
    page.locator(f"label:has(input[name='pain.score'][value='{score}'])").click()
    for words in symptoms:
        page.get_by_text(words, exact=True).click()
    save = page.get_by_role("button", name="Save", exact=True)
    if double_tap:
        save.dblclick()
    else:
        save.tap()
    page.get_by_role("heading", name="Today", exact=True).wait_for()


def test_offline_entries_are_sent_once_each_and_the_red_flag_shows_at_once(browser, server, world):
    nurse = api_as(server, world.nurse_email)
    created = nurse.post(f"{server}/api/v1/patients", json={
        "display_name": "Rosa Alvarez", "mrn": f"MRN-{uuid.uuid4().hex[:6]}", "date_of_birth": "1958-04-12",
        "email": f"rosa-{uuid.uuid4().hex[:6]}@example.test", "timezone": "UTC"}, timeout=30).json()
    patient_id = created["patient"]["id"]
    trial = nurse.post(f"{server}/api/v1/trials", timeout=30, json={
        "patient_id": patient_id, "therapy": "scs", "start_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "end_at": (datetime.now(UTC) + timedelta(days=20)).isoformat(), "baseline": {"pain": 8}}).json()["id"]
    context, page = _open_phone(browser)

    # The QR code's link: the code is in the fragment, filled in, and gone from the address bar.
    page.goto(f"{server}/diary/enroll#code={created['enrollment_code']}")
    assert page.get_by_label("Your code").input_value() == created["enrollment_code"]
    assert "#code" not in page.url
    page.get_by_label("Choose a password").fill("my dog likes long walks")
    page.get_by_role("button", name="Start my diary").tap()
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    _controlled(page)

    _record(page, 4)
    page.locator("li[data-state=sent]").wait_for()

    context.set_offline(True)
    for score in (3, 5, 6, 2):
        _record(page, score)
    page.get_by_role("link", name="Record how you feel now").click()
    page.locator("label:has(input[name='pain.score'][value='7'])").click()
    page.get_by_text("New weakness in my legs or arms", exact=True).click()
    panel = page.locator("[data-call-now=critical]")
    assert panel.is_visible()  # offline, before anything is sent
    assert panel.get_by_role("link", name="Call 911").get_attribute("href") == "tel:911"
    page.get_by_role("button", name="Save", exact=True).tap()
    page.locator("[data-waiting='5']").wait_for()

    page.reload()  # offline: the shell, the texts and the form come from the service worker
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    page.locator("[data-waiting='5']").wait_for()
    assert page.locator("li[data-state=waiting]").count() == 5
    assert len(stored_entries(nurse, server, trial)) == 1

    # Back online, the page closes while sending: the server stores the third entry, the page never hears.
    posts = []

    def lost_answer(route):
        posts.append(route.request.post_data_json["client_id"])
        if len(posts) == 3:
            route.fetch()  # stored by the server...
            route.abort("connectionreset")  # ...and the answer lost
        else:
            route.continue_()

    context.route("**/diary/api/trials/*/entries", lost_answer)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    # At least three shown sent (the page's own two answers and the first); Background Sync in the service worker,
    # which the route above does not see, may send the rest at the same moment.
    expect(page.locator("li[data-state=sent]").nth(2)).to_be_attached()
    page.close()
    context.unroute("**/diary/api/trials/*/entries")
    # 1 online, 2 answered, 1 stored without an answer; Background Sync may have sent more meanwhile, never twice.
    midway = stored_entries(nurse, server, trial)
    assert 4 <= len(midway) <= 6 and len({e["client_id"] for e in midway}) == len(midway)

    page = context.new_page()
    page.goto(f"{server}/diary/")
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    expect(page.locator("li[data-state=sent]")).to_have_count(6)
    stored = stored_entries(nurse, server, trial)
    assert len(stored) == 6 and len({e["client_id"] for e in stored}) == 6
    assert sorted(e["pain"]["score"] for e in stored) == [2, 3, 4, 5, 6, 7]

    _record(page, 1, double_tap=True)
    expect(page.locator("li[data-state=sent]")).to_have_count(7)
    assert len(stored_entries(nurse, server, trial)) == 7

    # The red flag, once sent, reaches the care team.
    def alert():
        found = nurse.get(f"{server}/api/v1/alerts?trial_id={trial}", timeout=30).json()
        return [a for a in found if a["severity"] == "critical" and a["rule"] == "neuro_deficit"]

    wait_for(alert, 60, message="the care team's critical alert")
    context.close()


def test_a_session_ended_offline_keeps_the_queue_until_the_patient_signs_in(browser, server, world):
    patient = world.patient("Ana Ortiz")
    context, page = _open_phone(browser)
    page.goto(f"{server}/diary/sign-in")
    page.get_by_label("Email").fill(patient["email"])
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").tap()
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    _controlled(page)
    context.set_offline(True)
    _record(page, 6)
    _record(page, 5)
    with world.app.app_context():  # the clinic ended the sign-in meanwhile (a new code was used, say)
        mine = select(User.id).where(User.email == patient["email"]).scalar_subquery()
        db.session.execute(update(AuthSession).where(AuthSession.kind == "diary", AuthSession.user_id == mine)
                           .values(revoked_at=db.func.now()))
        db.session.commit()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.get_by_text("Please sign in again to send the entries waiting on this phone (2).").wait_for()
    assert page.locator("li[data-state=waiting]").count() == 2
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(patient["email"])
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").tap()
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    expect(page.locator("li[data-state=sent]")).to_have_count(2)
    nurse = api_as(server, world.nurse_email)
    assert sorted(e["pain"]["score"] for e in stored_entries(nurse, server, patient["trials"][0])) == [5, 6]
    # The when-to-call page offline: the clinic's phone as a link that dials it.
    context.set_offline(True)
    page.get_by_role("link", name="When to call").first.click()
    link = page.get_by_role("link", name=f"Call the clinic: {CLINIC_PHONE_READ}")
    assert link.get_attribute("href") == f"tel:{CLINIC_PHONE}"
    context.close()


def test_a_texted_link_signs_in_once_and_call_me_back_and_texts_are_one_tap_each(browser, server, world):
    """The link as a text carries it (token in the fragment) opens the diary signed in, and leaves the address bar;
    a second use lands on sign-in saying why. Call me back says what happens next, and offline that it needs the
    internet. The mobile number's mistake is named in words. axe on each new state."""
    patient = world.patient("Ada Byron")
    with world.app.app_context():
        db.session.execute(update(Patient).where(Patient.id == patient["patient_id"])
                           .values(mobile_number="+12015550142", sms_consent_at=db.func.now(),
                                   sms_consent_source="staff"))
        db.session.commit()
    nurse = api_as(server, world.nurse_email)
    assert nurse.post(f"{server}/api/v1/patients/{patient['patient_id']}/sign-in-link", timeout=30).status_code == 202
    with world.app.app_context():
        link = db.session.execute(select(SignInLink).where(SignInLink.patient_id == patient["patient_id"])).scalar_one()
        token = texting.link_token(world.app.config["SECRET_KEY"], link.id, link.nonce)
    problems = []
    context, page = _open_phone(browser)
    page.goto(texting.sign_in_url(server, token))
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    assert "token" not in page.url and page.evaluate("location.hash") == ""
    page.get_by_role("navigation").get_by_role("link", name="When to call").click()
    call = page.get_by_role("button", name="Call me back")
    call.tap()
    page.get_by_text("Your care team has been asked to call you back.").wait_for()
    page.get_by_text("A nurse will call you at +1 201-555-0142.").wait_for()
    problems += _scan(page, "when to call, call-back asked")
    call.tap()
    page.get_by_text("You asked at").wait_for()
    context.set_offline(True)
    call.tap()
    page.get_by_text("You are offline, so your care team cannot get your request.").wait_for()
    context.set_offline(False)
    assert [c["trial_id"] for c in nurse.get(f"{server}/api/v1/call-backs?status=open", timeout=30).json()
            if c["patient_id"] == patient["patient_id"]] == patient["trials"]

    page.get_by_role("navigation").get_by_role("link", name="Reminders").click()
    page.get_by_text("Texts are on.").wait_for()
    page.get_by_label("Mobile number").fill("12345")
    page.get_by_role("button", name="Save my text settings").tap()
    page.get_by_text("Mobile number: this is not a mobile phone number.").wait_for()
    problems += _scan(page, "text settings with an error")
    page.get_by_text("Send me text messages").click()  # untick: no more texts
    page.get_by_label("Mobile number").fill("(201) 555-0143")
    page.get_by_role("button", name="Save my text settings").tap()
    page.get_by_text("Texts are off.").wait_for()
    with world.app.app_context():
        saved = db.session.get(Patient, patient["patient_id"])
        assert (saved.mobile_number, saved.sms_consent_at) == ("+12015550143", None)
    context.close()

    with world.app.app_context():  # the patient reads Spanish: the refusal says so in Spanish, on any browser
        db.session.execute(update(Patient).where(Patient.id == patient["patient_id"]).values(language="es"))
        db.session.commit()
    context, page = _open_phone(browser)
    page.goto(texting.sign_in_url(server, token))
    page.get_by_text("Este enlace ya se usó: cada enlace sirve una sola vez.").first.wait_for()
    page.get_by_role("heading", name="Iniciar sesión").wait_for()
    assert page.evaluate("document.documentElement.lang") == "es"
    problems += _scan(page, "sign-in after a used link")
    context.close()
    assert problems == []


def test_a_whole_entry_and_a_block_timepoint_in_spanish_with_a_correction_and_a_void(browser, server, world):
    patient = world.patient("Lucía Pérez", language="es",
                            trials=(("scs", 6, 0.5), ("medial_branch_block", 20, None)))
    scs, block = patient["trials"]
    context, page = _open_phone(browser, locale="es-ES")
    page.goto(f"{server}/diary/")
    page.get_by_role("heading", name="Iniciar sesión").wait_for()  # the browser's language before sign-in
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_label("Correo electrónico").fill(patient["email"])
    page.get_by_label("Contraseña", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Iniciar sesión").tap()
    page.get_by_text("Tiene más de un diario abierto. ¿En cuál quiere escribir?").wait_for()
    page.get_by_role("button", name="Prueba del estimulador de la médula espinal").tap()
    page.get_by_text("Día 7 de 7").wait_for()

    page.get_by_role("link", name="Anotar cómo se siente ahora").click()
    for field, value in (("pain-score", 5), ("pain-worst_24h", 7), ("pain-least_24h", 3),
                         ("function-interference", 4), ("stimulation-satisfaction", 8)):
        page.locator(f"#f-{field} label:has(input[value='{value}'])").click()
    page.get_by_label("¿Cuántas horas durmió anoche?").fill("6.5")
    page.get_by_label("Pasos de hoy (de su teléfono o reloj), si los sabe").fill("3200")
    page.get_by_text("Agregar un medicamento").click()
    page.get_by_label("Nombre del medicamento").fill("oxycodone")
    page.get_by_label("Dosis").fill("5")
    page.get_by_label("Cómo lo tomó").select_option("oral")
    page.get_by_role("button", name="Agregar este medicamento").tap()
    page.get_by_text("Picazón", exact=True).click()
    assert page.locator("[data-call-now]").count() == 0  # itching is no red flag
    page.get_by_text("Fiebre (38 °C / 100.4 °F o más)", exact=True).click()
    call = page.get_by_role("link", name=f"Llamar a la clínica: {CLINIC_PHONE_READ}")
    assert call.get_attribute("href") == f"tel:{CLINIC_PHONE}"
    page.get_by_text("Más o menos tres cuartas partes", exact=True).click()
    page.get_by_text("Mucho mejor", exact=True).click()
    page.get_by_label("¿Hay algo más que quiera que sepa su equipo de atención?").fill("Caminé hasta el buzón.")
    page.get_by_role("button", name="Guardar", exact=True).tap()
    expect(page.locator("li[data-state=sent]")).to_have_count(1)
    page.get_by_text("Enviado").wait_for()

    nurse = api_as(server, world.nurse_email)
    [stored] = stored_entries(nurse, server, scs)
    assert stored["pain"] == {"score": 5, "worst_24h": 7, "least_24h": 3}
    assert stored["function"] == {"interference": 4, "sleep_hours": 6.5, "steps": 3200}
    assert stored["medications"] == [{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "oral"}]
    assert sorted(stored["symptoms"]) == ["fever", "itching"]
    assert stored["stimulation"] == {"coverage_percent": 75, "satisfaction": 8}
    assert stored["pgic"] == 2 and stored["note"] == "Caminé hasta el buzón."

    page.get_by_role("link", name="Mis registros").click()
    page.get_by_role("button", name="Corregir").first.tap()
    page.get_by_role("heading", name="Corregir un registro").wait_for()
    page.locator("#f-pain-score label:has(input[value='4'])").click()
    page.get_by_role("button", name="Guardar la corrección").tap()
    page.get_by_text("Corregido").wait_for()
    page.get_by_role("button", name="Quitar").first.tap()
    page.get_by_text("Lo anoté dos veces").click()
    page.get_by_role("button", name="Quitar el registro").tap()
    page.get_by_text("Quitado", exact=True).wait_for()
    [corrected] = stored_entries(nurse, server, scs)
    assert corrected["version"] == 2 and corrected["pain"] == {"score": 4, "worst_24h": 7, "least_24h": 3}
    assert corrected["voided"] and corrected["void_reason"] == "Recorded twice"

    page.get_by_role("link", name="Hoy").click()
    page.get_by_role("button", name="Escribir en otro diario").tap()
    page.get_by_role("button", name="Bloqueo de nervios (rama medial)").tap()
    page.get_by_text("Próxima hora para anotar:").wait_for()
    page.get_by_role("link", name="Anotar cómo se siente ahora").click()
    page.get_by_role("heading", name="Su dolor ahora").wait_for()
    page.locator("#f-pain-score label:has(input[value='1'])").click()
    page.get_by_role("button", name="Guardar", exact=True).tap()
    expect(page.locator("li[data-state=sent]")).to_have_count(1)
    assert [e["pain"]["score"] for e in stored_entries(nurse, server, block)] == [1]
    context.close()


WIDTHS = (360, 1280)
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()  # test-only, never served
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}


def _axe(page) -> list[dict]:
    """axe-core's WCAG 2.1 A and AA rules on the page as it is; axe is put into the document once per load (every
    page of the diary is drawn in the same document)."""
    if page.evaluate("typeof axe") == "undefined":
        page.evaluate(AXE)
    return page.evaluate("options => axe.run(document, options).then(results => results.violations)", WCAG_21_AA)


def _scan(page, label: str) -> list[str]:
    """axe-core at both widths: no serious or critical violation, and no sideways scrolling."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 780})
        for violation in _axe(page):
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{label} at {width}px: {violation['id']} ({violation['impact']}) {targets}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            problems.append(f"{label} at {width}px: the page scrolls sideways by {overflow}px")
    page.set_viewport_size({"width": 360, "height": 780})
    return problems


def _doubled_text(page, label: str) -> list[str]:
    """Text at 200 % (the root font size doubled) on a phone's width: still no sideways scrolling."""
    page.evaluate("document.documentElement.style.fontSize = '225%'")  # 2 x the page's own 112.5 %
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    small = page.evaluate("""() => [...document.querySelectorAll('a, button, label:has(input)')]
        .filter(e => e.offsetParent !== null && !e.closest('nav') && !e.closest('.skip'))
        .map(e => e.getBoundingClientRect()).filter(r => r.height < 44 || r.width < 44).length""")
    page.evaluate("document.documentElement.style.fontSize = ''")
    return ([f"{label} at 200 % text: the page scrolls sideways by {overflow}px"] if overflow > 0 else []) + (
        [f"{label} at 200 % text: {small} targets smaller than 44 px"] if small else [])


def test_every_page_state_passes_axe_and_the_diary_works_by_keyboard(browser, server, world):
    patient = world.patient("Grace Hopper", trials=(("scs", 2, 5), ("medial_branch_block", 40, None)))
    problems = []
    context, page = _open_phone(browser)
    page.goto(f"{server}/diary/sign-in")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Email").fill(patient["email"])
    page.get_by_label("Password", exact=True).fill("wrong password here")
    page.get_by_role("button", name="Sign in").tap()
    page.get_by_text("The email or the password is not correct.").wait_for()
    problems += _scan(page, "sign-in with an error")
    page.get_by_role("link", name="First time here? Use the code from your clinic").click()
    page.get_by_role("button", name="Start my diary").tap()
    page.get_by_text("Type the code from your clinic.").wait_for()
    problems += _scan(page, "enroll with an error")
    page.get_by_role("navigation").get_by_role("link", name="Install").click()
    page.get_by_role("heading", name="Install and reminders", exact=True).wait_for()
    problems += _scan(page, "install (signed out)")
    page.goto(f"{server}/diary/no-such-page")
    problems += _scan(page, "not found")

    page.goto(f"{server}/diary/sign-in")
    page.get_by_label("Email").fill(patient["email"])
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").tap()
    page.get_by_text("You have more than one diary open.").wait_for()
    problems += _scan(page, "which diary")
    page.get_by_role("button", name="Nerve block (medial branch)").tap()
    page.get_by_text("Next time to record:").wait_for()
    page.get_by_text("All the times to record", exact=True).click()
    problems += _scan(page, "block today with its timeline")
    page.get_by_role("link", name="Record how you feel now").click()
    page.get_by_text("Anything new? Tap to tell us").click()
    problems += _scan(page, "block timepoint")
    page.get_by_role("link", name="Today").first.click()
    page.get_by_role("button", name="Write in another diary").tap()
    page.get_by_role("button", name="Spinal cord stimulator trial").tap()
    page.get_by_text("Day 3 of 7").wait_for()
    problems += _doubled_text(page, "today")

    # Keyboard only: to the record button, the pain scale by arrows, to Save, sent.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Record how you feel now":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="How are you now?").wait_for()
    problems += _doubled_text(page, "record")
    page.keyboard.press("Tab")
    for _ in range(3):  # into the first group; arrows move the choice
        if page.evaluate("document.activeElement.name") == "pain.score":
            break
        page.keyboard.press("Tab")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.querySelector(\"input[name='pain.score']:checked\").value") == "4"
    page.locator("#f-symptoms label").filter(has_text="New weakness in my legs or arms").click()
    problems += _scan(page, "record with a critical red flag")
    page.locator("#f-symptoms label").filter(has_text="New weakness in my legs or arms").click()
    page.locator("#f-symptoms label").filter(has_text="I cannot pass urine").click()
    problems += _scan(page, "record with a high red flag")
    page.locator("#f-symptoms label").filter(has_text="I cannot pass urine").click()
    page.get_by_role("button", name="Save", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("li[data-state=sent]")).to_have_count(1)
    page.get_by_role("heading", name="Reminders").wait_for()  # offered after the first saved entry
    problems += _scan(page, "today with an entry and the reminders offer")

    page.get_by_role("link", name="Record how you feel now").click()
    page.get_by_role("button", name="Save", exact=True).tap()
    page.get_by_text("Choose a number for your pain right now.").wait_for()
    problems += _scan(page, "record with an error")
    page.get_by_role("link", name="My entries").click()
    page.get_by_role("button", name="Correct").first.wait_for()
    problems += _doubled_text(page, "my entries")
    page.get_by_role("button", name="Remove").first.tap()
    problems += _scan(page, "my entries, removing one")
    page.get_by_role("button", name="Keep it").tap()
    page.get_by_role("button", name="Correct").first.tap()
    page.get_by_role("heading", name="Correct an entry").wait_for()
    problems += _scan(page, "correcting an entry")
    page.goto(f"{server}/diary/goals")
    page.get_by_label("Goal 1").fill("walk to the mailbox")
    problems += _scan(page, "goals")
    page.get_by_role("button", name="Save my goals").tap()
    page.get_by_role("listitem").filter(has_text="walk to the mailbox").wait_for()
    for name, heading in (("When to call", "When to call"), ("Reminders", "Install and reminders")):
        page.get_by_role("navigation").get_by_role("link", name=name).click()
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        problems += _scan(page, name)
        problems += _doubled_text(page, name)
    page.get_by_role("navigation").get_by_role("link", name="Today").click()
    context.set_offline(True)
    _record(page, 3)
    page.get_by_role("button", name="Sign out").tap()
    page.get_by_role("heading", name="Sign out?").wait_for()
    problems += _scan(page, "signing out with an entry waiting")
    page.get_by_role("button", name="Stay signed in").tap()
    context.close()
    assert problems == []
