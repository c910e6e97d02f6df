"""The admin's Clinic settings page: the report's letterhead (name, address, NPI), the phone patients call (the diary
page's "when to call" and a HELP text's answer), and the timezone the clinic-wide pages read times in."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...errors import Conflict
from ...resources.clinic.schemas import ClinicPatchIn
from ...services import clinics
from ...services.access import ADMIN, Actor
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems


def _settings_page(user: Actor, *, values, errors=None, message=None, status=200):
    return render_template("console/clinic_settings.html", user=user, values=values, errors=errors or {},
                           message=message, zones=present.timezone_choices()), status


@bp.route("/admin/clinic", methods=["GET"])
@staff_page(ADMIN)
def clinic_settings(user: Actor):
    clinic = clinics.clinic_profile(user=user)
    return _settings_page(user, values={"name": clinic.name, "address": clinic.address or "", "npi": clinic.npi or "",
                                        "phone": present.phone(clinic.phone), "timezone": clinic.timezone})


@bp.route("/admin/clinic-phone", methods=["GET"])
def clinic_phone():
    """The page's earlier address, folded into the Clinic settings page."""
    return redirect(url_for("console.clinic_settings"), 301)


@bp.route("/admin/clinic", methods=["POST"])
@staff_page(ADMIN)
def clinic_settings_save(user: Actor):
    form = request.form
    # An empty address, NPI or phone removes it; the name and the timezone are always kept.
    payload = {"address": present.text(form, "address"), "npi": present.text(form, "npi"),
               "phone": present.text(form, "phone")}
    payload.update(present.without_empty({"name": present.text(form, "name"),
                                          "timezone": present.text(form, "timezone")}))
    try:
        data = present.load(ClinicPatchIn(), payload)
        clinics.update_clinic_profile(admin=user, **data)
    except FormProblems as problems:
        return _settings_page(user, values=form, errors=problems.errors, message="Not saved: see the fields marked "
                              "below.", status=422)
    except Conflict as exc:
        return _settings_page(user, values=form, errors=present.flatten(exc.errors or {}), message=exc.message,
                              status=409)
    flash("Clinic settings saved: the report's letterhead, the phone patients call and the clinic's timezone.",
          "success")
    return redirect(url_for("console.clinic_settings"))
