"""The admin's pages: staff accounts (a colleague's name, NPI, temporary password, deactivation) and webhooks."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...errors import Conflict, Invalid
from ...models.clinic import STAFF_ROLES
from ...resources.users.profile import StaffProfileIn
from ...resources.users.schemas import UserIn
from ...resources.webhooks.schemas import WebhookIn
from ...services import users, webhooks
from ...services.access import ADMIN, Actor
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems


@bp.route("/admin/staff", methods=["GET"])
@staff_page(ADMIN)
def staff(user: Actor):
    return _staff_page(user)


def _staff_page(user: Actor, *, values=None, errors=None, message=None, status=200):
    return render_template("console/staff.html", user=user, staff=users.list_staff(admin=user), roles=STAFF_ROLES,
                           values=values or {}, errors=errors or {}, message=message), status


@bp.route("/admin/staff", methods=["POST"])
@staff_page(ADMIN)
def staff_create(user: Actor):
    form = request.form
    payload = present.without_empty({"email": present.text(form, "email"), "role": present.text(form, "role"),
                                     "display_name": present.text(form, "display_name"),
                                     "password": form.get("password") or None})
    try:
        created = users.create_staff_user(clinic_id=user.clinic_id, **present.load(UserIn(), payload))
    except FormProblems as problems:
        return _staff_page(user, values=form, errors=problems.errors, message=problems.message, status=422)
    except Conflict as exc:
        return _staff_page(user, values=form, errors=present.flatten(exc.errors or {}), message=exc.message,
                           status=409)
    flash(f"Account created for {created.email}.", "success")
    return redirect(url_for("console.staff"))


@bp.route("/admin/staff/<int:user_id>", methods=["GET"])
@staff_page(ADMIN)
def staff_member(user: Actor, user_id: int):
    return _member_page(user, users.staff_member(admin=user, user_id=user_id))


def _member_page(user: Actor, member, *, values=None, errors=None, message=None, password=None, status=200):
    shown = values if values is not None else {"display_name": member.display_name or "", "npi": member.npi or ""}
    return render_template("console/staff_member.html", user=user, member=member, values=shown,
                           errors=errors or {}, message=message, password=password), status


@bp.route("/admin/staff/<int:user_id>/profile", methods=["POST"])
@staff_page(ADMIN)
def staff_profile(user: Actor, user_id: int):
    member = users.staff_member(admin=user, user_id=user_id)
    form = request.form
    payload = {"npi": present.text(form, "npi")}  # an empty NPI clears it
    if name := present.text(form, "display_name"):
        payload["display_name"] = name
    try:
        changes = present.load(StaffProfileIn(), payload)
    except FormProblems as problems:
        return _member_page(user, member, values=form, errors=problems.errors, status=422,
                            message="Not saved: see the field marked below.")
    users.update_staff_profile(admin=user, user_id=member.id, changes=changes)
    flash(f"Saved: {member.display_name or member.email}"
          f"{', NPI ' + member.npi if member.npi else ', no NPI'}.", "success")
    return redirect(url_for("console.staff_member", user_id=member.id))


@bp.route("/admin/staff/<int:user_id>/password", methods=["POST"])
@staff_page(ADMIN)
def staff_password(user: Actor, user_id: int):
    try:
        member, password = users.reset_staff_password(admin=user, user_id=user_id)
    except Invalid as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.staff_member", user_id=user_id))
    return _member_page(user, member, password=password, status=201)  # shown in this answer only


@bp.route("/admin/staff/<int:user_id>/deactivate", methods=["POST"])
@staff_page(ADMIN)
def staff_deactivate(user: Actor, user_id: int):
    member = users.staff_member(admin=user, user_id=user_id)
    if request.form.get("confirm") != "yes":
        return _member_page(user, member, errors={"confirm": "Tick the box to confirm the deactivation."},
                            message="Not deactivated: the box to confirm is not ticked.", status=422)
    try:
        gone = users.deactivate_staff_user(admin=user, user_id=user_id)
    except Invalid as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.staff"))
    flash(f"{gone.email} is deactivated and signed out everywhere.", "success")
    return redirect(url_for("console.staff"))


@bp.route("/admin/webhooks", methods=["GET"])
@staff_page(ADMIN)
def webhook_list(user: Actor):
    return _webhooks_page(user)


def _webhooks_page(user: Actor, *, values=None, errors=None, message=None, created=None, status=200):
    return render_template("console/webhooks.html", user=user, hooks=webhooks.list_webhooks(admin=user),
                           values=values or {}, errors=errors or {}, message=message, created=created), status


@bp.route("/admin/webhooks", methods=["POST"])
@staff_page(ADMIN)
def webhook_create(user: Actor):
    form = request.form
    payload = present.without_empty({"url": present.text(form, "url"),
                                     "description": present.text(form, "description")})
    try:
        data = present.load(WebhookIn(), payload)
        hook = webhooks.register_webhook(admin=user, url=data["url"], description=data.get("description"))
    except FormProblems as problems:
        return _webhooks_page(user, values=form, errors=problems.errors, message=problems.message, status=422)
    except Invalid as exc:
        return _webhooks_page(user, values=form, errors=present.flatten(exc.errors or {}), message=exc.message,
                              status=422)
    return _webhooks_page(user, created=hook, status=201)  # the secret is shown in this answer only


@bp.route("/admin/webhooks/<int:webhook_id>/remove", methods=["POST"])
@staff_page(ADMIN)
def webhook_remove(user: Actor, webhook_id: int):
    hook = webhooks.deactivate_webhook(admin=user, webhook_id=webhook_id)
    flash(f"Webhook {hook.url} removed: nothing more is sent to it.", "success")
    return redirect(url_for("console.webhook_list"))
