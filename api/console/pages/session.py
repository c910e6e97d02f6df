"""Signing in to the console and out of it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from ...clock import now
from ...errors import Invalid, Unauthorized
from ...models.clinic import STAFF_ROLES
from ...resources.auth.routes import SIGN_IN_LIMITS
from ...services import auth, users
from ...services.access import Actor, touch_session
from .. import bp, present
from ..guard import CHOOSING_PASSWORD, safe_next, staff_page


def _limited(view):
    """The API's sign-in limits, on the same counters: a guesser gets one allowance, not one per door."""
    for limit in reversed(SIGN_IN_LIMITS):
        view = limit(view)
    return view


@bp.route("/sign-in", methods=["GET"])
def sign_in():
    return render_template("console/sign_in.html", next=safe_next(request.args.get("next")))


@bp.route("/sign-in", methods=["POST"])
@_limited
def sign_in_post():
    email, password = request.form.get("email", ""), request.form.get("password", "")
    wanted = safe_next(request.form.get("next"))
    try:
        signed_in = auth.open_console_session(email=email, password=password)
    except auth.PatientAccount as exc:
        return render_template("console/sign_in.html", error=exc.message, email=email, next=wanted,
                               patient=True), 403
    except Unauthorized as exc:
        return render_template("console/sign_in.html", error=exc.message, email=email, next=wanted), 401
    session.clear()  # a new cookie for the new sign-in, and a new CSRF secret with it
    session["sid"] = signed_in.session_id
    if signed_in.password_change_required:
        session[CHOOSING_PASSWORD] = True
        return redirect(url_for("console.own_password"))
    return redirect(wanted or url_for("console.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    if session_id := session.get("sid"):
        auth.logout(session_id=session_id)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("console.sign_in"))


@bp.route("/session/keep-alive", methods=["POST"])
@staff_page(*STAFF_ROLES)
def keep_alive(user: Actor):
    """"Stay signed in": a request of the signed-in user, which the guard counts as activity (the idle clock
    restarts)."""
    touch_session(user.session_id, now())
    return "", 204


@bp.route("/account/password", methods=["GET"])
@staff_page(*STAFF_ROLES)
def own_password(user: Actor):
    return _own_password_page(user)


def _own_password_page(user: Actor, *, errors=None, message=None, status=200):
    return render_template("console/own_password.html", user=user, errors=errors or {}, message=message,
                           temporary=bool(session.get(CHOOSING_PASSWORD))), status


@bp.route("/account/password", methods=["POST"])
@staff_page(*STAFF_ROLES)
@_limited  # the current password is checked here too: the sign-in's allowance of wrong ones
def own_password_post(user: Actor):
    form = request.form
    try:
        users.change_own_password(user=user, current=form.get("current_password", ""),
                                  new=form.get("new_password", ""), repeated=form.get("repeat_password", ""))
    except Invalid as exc:
        wrong_current = "current_password" in (exc.errors or {})
        return _own_password_page(user, errors=present.flatten(exc.errors or {}), message=exc.message,
                                  status=401 if wrong_current else 422)
    session.pop(CHOOSING_PASSWORD, None)
    flash("Your password is changed. Your other sign-ins (other browsers, the phone app) were ended.", "success")
    return redirect(url_for("console.home"))
