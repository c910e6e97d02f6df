"""The patient's diary page: the shell's bytes, and the time to a usable record form on an emulated slow connection.

    .venv/bin/python -m bench.diary [--runs 5]

The shell is what the page needs before it can draw anything: the HTML, the CSS, the two scripts and the service
worker, as served (the texts and the form definition are counted apart). The time is measured in Debian's
Chromium (Playwright for Python) with Chrome DevTools Protocol throttling: WebPageTest's "3G Slow" profile
(400 kbit/s down and up, 400 ms round trip) and the CPU slowed 4 times (Lighthouse's mid-range phone). The
patient signed in before (a session cookie), nothing is cached, and the page is opened at /diary/record; the form
is usable once its first question's buttons and the Save button are on the page. Then the same page is opened
again with the service worker in control (the repeat visit). Median of `--runs` cold runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
CPU_SLOWDOWN = 4
PASSWORD = "bench diary password"
# Set before the page's own scripts run: the moment the record form becomes usable, on the page's own clock.
USABLE = """
new MutationObserver((_, observer) => {
  if (document.querySelector("input[name='pain.score']") && document.querySelector("form button[type=submit]")) {
    window.__usable = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def _world(folder: Path):
    """An app on a SQLite file with one clinic, a nurse, and a patient with a password and an open SCS trial."""
    os.environ.setdefault("INSTANCE_DIR", str(folder))
    from api import create_app
    from api.cli import migrate_database
    from api.extensions import db
    from api.models import Clinic, User
    from api.services import patients, trials
    from api.services.access import Actor
    from api.services.passwords import hash_password

    url = f"sqlite:///{folder / 'bench.sqlite'}"
    migrate_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder), "RATELIMIT_ENABLED": False})
    with app.test_request_context():
        clinic = Clinic(name="Bench Clinic", phone="+12015550123")
        db.session.add(clinic)
        db.session.flush()
        nurse = User(clinic_id=clinic.id, email="nurse@bench.test", role="nurse", password_hash=hash_password(PASSWORD))
        db.session.add(nurse)
        db.session.commit()
        staff = Actor(nurse.id, "nurse", clinic.id, None)
        made = patients.create_patient(staff=staff, display_name="Bench Patient", mrn="B1", email="p@bench.test",
                                       date_of_birth=date(1960, 1, 1), timezone="UTC")
        made.patient.user.password_hash = hash_password(PASSWORD)
        db.session.commit()
        trials.create_trial(staff=staff, patient_id=made.patient.id, therapy="scs", baseline={"pain": 8},
                            protocol={}, start_at=datetime.now(UTC) - timedelta(days=2),
                            end_at=datetime.now(UTC) + timedelta(days=5))
    return app


def shell_bytes(app) -> dict[str, dict[str, int]]:
    """Bytes as served, and as sent gzipped (the page's files are compressed for a browser that accepts it)."""
    client = app.test_client()
    parts = {"html": ["/diary/"], "css": ["/diary/static/diary.css"],
             "script (app.js + queue.js)": ["/diary/static/app.js", "/diary/static/queue.js"],
             "service worker": ["/diary/sw.js"]}
    sizes = {}
    for name, paths in parts.items():
        sizes[name] = {"bytes": sum(len(client.get(p).data) for p in paths),
                       "gzip": sum(len(client.get(p, headers={"Accept-Encoding": "gzip"}).data) for p in paths)}
    sizes["shell total"] = {key: sum(size[key] for size in sizes.values()) for key in ("bytes", "gzip")}
    for name, path in (("texts, Spanish (not in the shell)", "/diary/texts/es.json"),
                       ("SCS form definition (not in the shell)", "/diary/forms/scs.json")):
        sizes[name] = {"bytes": len(client.get(path).data),
                       "gzip": len(client.get(path, headers={"Accept-Encoding": "gzip"}).data)}
    return sizes


def time_to_usable_form(base: str, runs: int, cpu_slowdown: float) -> dict:
    import requests
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_path

    cold, warm = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for _ in range(runs):
            signed_in = requests.post(f"{base}/diary/api/sign-in", json={"email": "p@bench.test", "password": PASSWORD},
                                      headers={"X-Diary-Request": "1"}, timeout=30)
            assert signed_in.status_code == 200, signed_in.text
            context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                                          service_workers="allow")
            context.add_cookies([{"name": "trial_diary", "value": signed_in.cookies["trial_diary"],
                                  "url": f"{base}/diary/"}])
            context.add_init_script(USABLE)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
            for times in (cold, warm):
                page.goto(f"{base}/diary/record", timeout=60_000)
                page.locator("input[name='pain.score']").first.wait_for(state="attached", timeout=60_000)
                times.append(page.evaluate("window.__usable"))
                if times is cold:  # the service worker takes over before the repeat visit
                    page.evaluate("navigator.serviceWorker.ready")
                    page.evaluate("""async () => { while (!navigator.serviceWorker.controller)
                        await new Promise(resolve => setTimeout(resolve, 50)); }""")
            context.close()
        browser.close()
    return {"cold_ms": {"median": round(statistics.median(cold)), "max": round(max(cold)), "runs": len(cold)},
            "repeat_visit_ms": {"median": round(statistics.median(warm)), "max": round(max(warm))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory(prefix="bench-diary-") as folder:
        app = _world(Path(folder))
        http = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        started = time.perf_counter()
        try:
            base = f"http://127.0.0.1:{http.server_port}"
            report = {"shell_bytes": shell_bytes(app),
                      "time_to_usable_record_form": time_to_usable_form(base, args.runs, CPU_SLOWDOWN),
                      "same, CPU not slowed": time_to_usable_form(base, args.runs, 1),
                      "network": {**SLOW_3G, "profile": "WebPageTest 3G Slow"}, "cpu_slowdown": CPU_SLOWDOWN,
                      "load_average_1min": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
                      "seconds": round(time.perf_counter() - started, 1)}
        finally:
            http.shutdown()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "diary.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
