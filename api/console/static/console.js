/* Live updates for the console: every element with data-live="url" is refreshed from that url.
   Progressive: the page works without this script (reload by hand). The nurse's place is kept: nothing is
   replaced while focus or a half-typed note is inside the region, and scrolling is untouched. */
(function () {
  "use strict";
  var status = document.querySelector("[data-live-status]");

  function busy(region) {
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active)) return true;
    var fields = region.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) return true; }
    return false;
  }

  function refresh(region) {
    if (document.hidden || busy(region)) return;
    fetch(region.getAttribute("data-live"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.status === 401) {  // signed out (idle, sign-out elsewhere, deactivated)
          window.location.assign(document.body.getAttribute("data-sign-in"));
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null || busy(region)) return;
        if (html !== region.getAttribute("data-last")) {
          region.innerHTML = html;
          region.setAttribute("data-last", html);
        }
        if (status) status.textContent = "Updated at " + new Date().toLocaleTimeString();
      })
      .catch(function () {
        if (status) status.textContent = "Could not update; retrying.";
      });
  }

  document.querySelectorAll("[data-live]").forEach(function (region) {
    var seconds = parseFloat(region.getAttribute("data-interval")) || 10;
    window.setInterval(function () { refresh(region); }, seconds * 1000);
  });
})();
