/* The console's script, progressive: every page works without it (reload by hand, sign in again).
   - Live updates: every element with data-live="url" is refreshed from that url. The nurse's place is kept: nothing
     is replaced while focus or a half-typed note is inside the region, and the page says so ("paused") meanwhile.
   - The session: a minute before the idle sign-out the page warns, and "Stay signed in" keeps the session. */
(function () {
  "use strict";
  var status = document.querySelector("[data-live-status]");
  var idleText = status ? status.textContent : "";

  function busy(region) {
    var active = document.activeElement;
    var fields = region.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) return true; }
    return !!(active && active !== document.body && region.contains(active) &&
              active.matches("input[type=text], textarea"));
  }

  function say(text) { if (status && status.textContent !== text) status.textContent = text; }

  var PAUSED = "Updates paused while you type a note: send it or clear it and they resume.";
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));

  function refresh(region) {
    if (document.hidden) return;
    if (busy(region)) {
      say(PAUSED);
      return;
    }
    fetch(region.getAttribute("data-live"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.status === 401) {  // signed out (idle, sign-out elsewhere, deactivated)
          window.location.assign(document.body.getAttribute("data-sign-in"));
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        if (busy(region)) { say(PAUSED); return; }
        if (html !== region.getAttribute("data-last")) {
          region.innerHTML = html;
          region.setAttribute("data-last", html);
        }
        // Another region (the pipeline banner) refreshing must not hide that this page's list is paused.
        say(regions.some(busy) ? PAUSED : "Updated at " + new Date().toLocaleTimeString() + ". " + idleText);
      })
      .catch(function () { say("Could not update; retrying."); });
  }

  regions.forEach(function (region) {
    var seconds = parseFloat(region.getAttribute("data-interval")) || 10;
    window.setInterval(function () { refresh(region); }, seconds * 1000);
  });

  // --- the idle sign-out, announced a minute ahead ---------------------------------------------------------------
  var idle = parseFloat(document.body.getAttribute("data-idle-seconds"));
  var warning = document.querySelector("[data-session-warning]");
  var keepAlive = document.body.getAttribute("data-keep-alive");
  var token = document.querySelector("meta[name=csrf-token]");
  if (!idle || !warning || !keepAlive || !token) return;
  var lead = Math.min(60, idle / 2);
  var warnTimer, endTimer;

  function arm(left) {  // left: seconds before the server signs the session out (the page says, as it was served)
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warning.hidden = true;
    warnTimer = window.setTimeout(function () {
      warning.hidden = false;
      warning.querySelector("button").focus();
    }, Math.max(0, left - lead) * 1000);
    endTimer = window.setTimeout(function () {
      window.location.assign(document.body.getAttribute("data-sign-in"));
    }, left * 1000 + 2000);
  }

  warning.querySelector("button").addEventListener("click", function () {
    fetch(keepAlive, {method: "POST", credentials: "same-origin",
                      headers: {"X-CSRFToken": token.getAttribute("content")}})
      .then(function (response) {
        if (response.ok) { arm(idle); } else { window.location.assign(document.body.getAttribute("data-sign-in")); }
      });
  });
  var left = parseFloat(document.body.getAttribute("data-idle-left"));
  arm(isNaN(left) ? idle : left);
})();
