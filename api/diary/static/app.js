/* The patient's diary page: every page is drawn here from the one shell, online or not. Entries are saved on the
   phone first (queue.js) and sent when the network allows; "sent" is shown only once the server has them. The
   texts are English message ids, translated from /diary/texts/<language>.json (the gettext catalogs). */
(function () {
  "use strict";
  var ROOT = document.body.getAttribute("data-root"), API = ROOT + "api/";
  var LANGUAGES = ["en", "es"], LANGUAGE_NAMES = {en: "English", es: "Español"};
  var DAY = 86400000, HOUR = 3600000;
  var main = document.getElementById("main"), statusBox = document.getElementById("status");
  var state = {texts: {}, language: "en", me: null, owner: null, trial: null, forms: {}, signedOut: false,
               flash: null, moved: false, installPrompt: null, entries: null, draft: null, linkToken: null,
               linkProblem: null};
  var ticker = null;

  /* ---------- words, elements ---------- */

  function T(id, values) {
    var text = state.texts[id] || id;
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined && child !== false) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function link(page, words, className) {
    return h("a", {href: ROOT + page, "data-route": page, className: className, text: words});
  }

  function say(words) {
    statusBox.textContent = "";
    if (words) setTimeout(function () { statusBox.textContent = words; }, 50);
  }

  function heading(words) {
    document.title = words + " · " + T("My trial diary");
    return h("h1", {tabindex: "-1", text: words});
  }

  function chosenLanguage() {
    if (state.me) return state.me.profile.language;
    var saved = localStorage.getItem("diary-language");
    if (LANGUAGES.indexOf(saved) >= 0) return saved;
    var wanted = navigator.languages || [navigator.language || "en"];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).slice(0, 2).toLowerCase();
      if (LANGUAGES.indexOf(code) >= 0) return code;
    }
    return "en";
  }

  var textsOf = {en: Promise.resolve({})};  // English: the message ids are the texts

  function fetchTexts(language) {
    if (!textsOf[language]) {
      textsOf[language] = fetch(ROOT + "texts/" + language + ".json").then(function (r) { return r.ok ? r.json() : {}; })
        .catch(function () { delete textsOf[language]; return {}; });
    }
    return textsOf[language];
  }

  function loadTexts(language) {
    return fetchTexts(language).then(function (found) {
      state.texts = found; state.language = language;
      document.documentElement.lang = language;
      var skip = document.querySelector(".skip"), brand = document.querySelector(".brand");
      if (skip) skip.textContent = T("Skip to the content");
      if (brand) brand.textContent = T("My trial diary");
    });
  }

  /* ---------- the server ---------- */

  function api(method, path, data) {
    var options = {method: method, credentials: "same-origin", cache: "no-store", headers: {"X-Diary-Request": "1"}};
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    return fetch(API + path, options).then(function (response) {
      if (response.status === 204) return {status: 204, data: null};
      return response.json().catch(function () { return null; }).then(function (body) {
        return {status: response.status, data: body};
      });
    });
  }

  function applyMe(me, fresh) {
    var changed = state.owner !== null && state.owner !== me.user_id;
    state.me = me; state.owner = me.user_id;
    Object.keys(me.forms || {}).forEach(function (therapy) { state.forms[therapy] = me.forms[therapy]; });
    var ids = me.trials.map(function (trial) { return trial.id; });
    var kept = Number(localStorage.getItem("diary-trial-" + me.user_id));
    var chosen = ids.indexOf(kept) >= 0 ? kept : (ids.length === 1 ? ids[0] : null);
    state.trial = me.trials.filter(function (trial) { return trial.id === chosen; })[0] || null;
    if (changed) state.entries = null;
    if (!fresh) return Promise.resolve();
    localStorage.setItem("diary-language", me.profile.language);
    return DiaryQueue.meta("owner", me.user_id).then(function () {
      return DiaryQueue.meta("profile:" + me.user_id, me);
    });
  }

  function refreshMe() {
    return api("GET", "me").then(function (answer) {
      if (answer.status === 200) {
        state.signedOut = false;
        return applyMe(answer.data, true);
      }
      if (answer.status === 401) state.signedOut = state.owner !== null;  // a session that ended, not a visitor
      return null;
    }, function () { return null; });  // offline: what this phone kept
  }

  function loadForm(therapy) {
    if (state.forms[therapy]) return Promise.resolve(state.forms[therapy]);
    return fetch(ROOT + "forms/" + therapy + ".json").then(function (r) { return r.json(); }).then(function (form) {
      state.forms[therapy] = form;
      return form;
    });
  }

  /* ---------- sending ---------- */

  function sendNow() {
    if (!state.owner) return Promise.resolve();
    return DiaryQueue.send(API).then(function (summary) {
      if (summary.signedOut && !state.signedOut) {  // the session ended (while offline, say): ask to sign in
        state.signedOut = true;
        render();
        return summary;
      }
      if (summary.sent) say(summary.sent === 1 ? T("1 entry sent.") : T("{n} entries sent.", {n: summary.sent}));
      if (summary.sent || summary.attention || summary.signedOut) refreshQueueViews();
      return summary;
    });
  }

  function askForBackgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register("send-diary");
    }).catch(function () { /* Background Sync is a bonus: the page sends on load, online and when shown */ });
  }

  function myRecords() {
    return state.owner === null ? Promise.resolve([]) : DiaryQueue.list(state.owner);
  }

  function waitingCount() {
    return myRecords().then(function (records) {
      return records.filter(function (r) { return r.state === "waiting"; }).length;
    });
  }

  /* ---------- pages ---------- */

  function currentPage() {
    var path = location.pathname;
    return path.indexOf(ROOT) === 0 ? path.slice(ROOT.length).replace(/\/$/, "") : "";
  }

  function go(page, replace) {
    history[replace ? "replaceState" : "pushState"](null, "", ROOT + page);
    state.moved = true;
    render();
  }

  var PAGES = {"": today, "enroll": enroll, "sign-in": signIn, "sign-in/link": signInByLink, "record": record,
               "entries": entries,
               "when-to-call": whenToCall, "install": install, "goals": goals};
  var SIGNED_IN_ONLY = ["", "record", "entries", "goals"];

  function render() {
    var page = currentPage();
    if (ticker) { clearInterval(ticker); ticker = null; }
    if (SIGNED_IN_ONLY.indexOf(page) >= 0 && !state.me) return go("sign-in", true);
    if ((page === "sign-in" || page === "enroll") && state.me && !state.signedOut) return go("", true);
    drawNav(page);
    drawFooter();
    var view = PAGES[page] || notFound;
    return Promise.resolve(view()).then(function () {
      if (state.flash) { say(state.flash); state.flash = null; }
      var title = main.querySelector("h1");
      if (state.moved && title) title.focus();
    }, function () {
      show([heading(T("You are offline")), h("p", {text: T("This page has not been opened on this phone before. Connect to the internet and try again.")})]);
    });
  }

  function show(nodes) {
    main.textContent = "";
    nodes.forEach(function (node) { if (node) main.appendChild(node); });
  }

  function drawNav(page) {
    var nav = document.getElementById("nav");
    nav.textContent = "";
    nav.setAttribute("aria-label", T("Diary"));
    var items = state.me && !state.signedOut
      ? [["", T("Today")], ["entries", T("My entries")], ["when-to-call", T("When to call")],
         ["install", T("Reminders")]]
      : [["sign-in", T("Sign in")], ["when-to-call", T("When to call")], ["install", T("Install")]];
    var list = h("ul", {}, items.map(function (item) {
      var a = link(item[0], item[1]);
      if (item[0] === page) a.setAttribute("aria-current", "page");
      return h("li", {}, [a]);
    }));
    if (state.me && !state.signedOut) {
      list.appendChild(h("li", {}, [h("button", {type: "button", className: "link", text: T("Sign out"),
                                                  onclick: signOut})]));
    }
    nav.appendChild(list);
    nav.hidden = false;
  }

  function drawFooter() {
    var footer = document.getElementById("footer");
    footer.textContent = "";
    var other = state.language === "es" ? "en" : "es";
    footer.appendChild(h("button", {type: "button", className: "secondary", lang: other,
                                    text: LANGUAGE_NAMES[other], onclick: function () { switchLanguage(other); }}));
  }

  function switchLanguage(language) {
    localStorage.setItem("diary-language", language);
    var saved = state.me && !state.signedOut ? api("PATCH", "me", {language: language}).then(function (answer) {
      if (answer.status === 200) state.me.profile = answer.data;
    }, function () { /* offline: the page changes now, the profile when the patient changes it online */ })
      : Promise.resolve();
    if (state.me) state.me.profile.language = language;
    return saved.then(function () { return loadTexts(language); }).then(function () {
      state.moved = true;
      render();
      say(T("The diary is now in English."));
    });
  }

  function notFound() {
    show([heading(T("Page not found")), h("p", {text: T("There is no such page in your diary.")}),
          link("", T("Open my diary"), "button")]);
  }

  /* ---- today ---- */

  function today() {
    var me = state.me;
    var nodes = [heading(T("Today"))];
    if (state.signedOut) nodes.push(signInAgainNotice());
    if (!me.trials.length) {
      nodes.push(h("p", {text: T("Your clinic has not started a diary for you yet. Come back when they tell you.")}));
      return show(nodes);
    }
    if (!state.trial) return chooseTrial(nodes);
    var trial = state.trial;
    return loadForm(trial.therapy).then(function (form) {
      nodes.push(h("p", {className: "lead", text: T(form.title)}));
      nodes.push(progress(trial, form));
      nodes.push(link("record", T("Record how you feel now"), "button big"));
      var summary = h("div", {id: "queue-summary"});
      var list = h("div", {id: "today-entries"});
      nodes.push(summary, h("h2", {text: T("Today's entries")}), list);
      nodes.push(reminderOffer());
      nodes.push(callBackSection(trial));
      nodes.push(goalsSection(me.profile.goals));
      if (me.trials.length > 1) {
        nodes.push(h("p", {}, [h("button", {type: "button", className: "link", text: T("Write in another diary"),
                                            onclick: function () { state.trial = null; render(); }})]));
      }
      show(nodes);
      if (form.kind === "timepoints") ticker = setInterval(function () { redrawProgress(trial, form); }, 30000);
      return refreshQueueViews();
    });
  }

  function chooseTrial(nodes) {
    nodes.push(h("p", {text: T("You have more than one diary open. Which one do you want to write in?")}));
    return Promise.all(state.me.trials.map(function (trial) { return loadForm(trial.therapy); })).then(function (forms) {
      nodes.push(h("ul", {className: "entries"}, state.me.trials.map(function (trial, i) {
        return h("li", {}, [h("button", {type: "button", className: "secondary", onclick: function () {
          localStorage.setItem("diary-trial-" + state.owner, String(trial.id));
          state.trial = trial;
          render();
        }, text: T(forms[i].title) + " · " + trial.clinic.name + " · " + formatDay(trial.start_at)})]);
      })));
      show(nodes);
    });
  }

  function signInAgainNotice() {
    var box = h("div", {className: "card warning", role: "alert"});
    waitingCount().then(function (n) {
      box.appendChild(h("p", {text: n ? T("Please sign in again to send the entries waiting on this phone ({n}).", {n: n})
                                      : T("Please sign in again.")}));
      box.appendChild(link("sign-in", T("Sign in"), "button"));
    });
    return box;
  }

  function progress(trial, form) {
    var box = h("div", {id: "progress", className: "card notice"});
    fillProgress(box, trial, form);
    return box;
  }

  function redrawProgress(trial, form) {
    var box = document.getElementById("progress");
    if (box) { box.textContent = ""; fillProgress(box, trial, form); }
  }

  function fillProgress(box, trial, form) {
    var now = Date.now(), start = Date.parse(trial.start_at), end = Date.parse(trial.end_at);
    if (form.kind === "timepoints") return fillTimeline(box, trial, now);
    var unit = form.kind === "hourly" ? HOUR : DAY;
    var total = Math.max(1, Math.ceil((end - start) / unit));
    var n = Math.floor((now - start) / unit) + 1;
    var words;
    if (now < start) words = T("Your diary starts on {day}.", {day: formatDay(trial.start_at)});
    else if (n > total) words = T("Your trial has ended. Entries you still have are sent, and your care team reads them.");
    else if (form.kind === "hourly") words = T("Hour {n} of {total}", {n: n, total: total});
    else words = T("Day {n} of {total}", {n: n, total: total});
    box.appendChild(h("p", {className: "phone", text: words}));
  }

  function fillTimeline(box, trial, now) {
    var times = (trial.schedule || []).map(Date.parse);
    var next = times.filter(function (time) { return time > now - 5 * 60000; })[0];
    if (next === undefined) {
      box.appendChild(h("p", {className: "phone", text: T("All the times to record have passed.")}));
    } else {
      var minutes = Math.max(0, Math.round((next - now) / 60000));
      box.appendChild(h("p", {className: "phone", text: minutes <= 0
        ? T("Record your pain now ({time}).", {time: formatTime(next)})
        : T("Next time to record: {time}, in {minutes} minutes.", {time: formatTime(next), minutes: minutes})}));
    }
    box.appendChild(h("details", {}, [h("summary", {text: T("All the times to record")}),
      h("ol", {className: "timeline"}, times.map(function (time) {
        return h("li", {className: time < now ? "done" : null, text: formatTime(time)});
      }))]));
  }

  function refreshQueueViews() {
    var summary = document.getElementById("queue-summary"), list = document.getElementById("today-entries");
    if (!summary && !list) return Promise.resolve();
    return myRecords().then(function (records) {
      var mine = records.filter(function (r) { return !state.trial || r.trial_id === state.trial.id; });
      var waiting = mine.filter(function (r) { return r.state === "waiting"; }).length;
      var attention = mine.filter(function (r) { return r.state === "attention"; }).length;
      if (summary) {
        summary.textContent = "";
        if (waiting) {
          summary.appendChild(h("div", {className: "card warning", "data-waiting": String(waiting)}, [h("p", {
            text: (waiting === 1 ? T("1 entry is waiting to be sent.") : T("{n} entries are waiting to be sent.",
              {n: waiting})) + " " + (navigator.onLine ? T("Sending…") : T("They will be sent when you are online."))
          })]));
        }
        if (attention) {
          summary.appendChild(h("div", {className: "card danger"}, [h("p", {text: attention === 1
            ? T("1 entry needs your attention.") : T("{n} entries need your attention.", {n: attention})})]));
        }
      }
      if (list) {
        list.textContent = "";
        var midnight = new Date(); midnight.setHours(0, 0, 0, 0);
        var todays = mine.filter(function (r) {
          return r.state !== "sent" || Date.parse(r.body.recorded_at) >= midnight.getTime();
        }).reverse();
        if (!todays.length) list.appendChild(h("p", {text: T("Nothing recorded yet today.")}));
        else list.appendChild(h("ul", {className: "entries"}, todays.map(localEntry)));
      }
    });
  }

  function localEntry(record) {
    var words = {sent: T("Sent"), waiting: T("Waiting to be sent"), attention: T("Needs attention")}[record.state];
    var item = h("li", {"data-state": record.state}, [
      h("strong", {text: formatTime(Date.parse(record.body.recorded_at))}), " · ",
      T("Pain {n} of 10", {n: record.body.pain.score}), " · ",
      h("span", {className: "state state-" + record.state, text: words})]);
    if (record.state === "waiting" && Date.now() - record.saved_at > DAY) {
      item.appendChild(h("p", {className: "error", text: T("Waiting for more than a day. Connect to the internet so that it can be sent.")}));
    }
    if (record.state === "attention") {
      item.appendChild(h("p", {className: "error", text: problemWords(record.problem || {})}));
      item.appendChild(h("button", {type: "button", className: "secondary", text: T("Remove it from this phone"),
        onclick: function () {
          record.state = "dismissed";
          DiaryQueue.put(record).then(refreshQueueViews);
        }}));
    }
    return item;
  }

  function problemWords(problem) {
    if (problem.code === "trial_closed") return T("Your diary is closed, so this entry cannot be sent.");
    if (problem.status === 409) {
      return T("An entry with the same number was already sent with other answers. Call your clinic if it matters.");
    }
    if (problem.status === 422) {
      var form = state.trial && state.forms[state.trial.therapy];
      var labels = Object.keys(problem.errors || {}).map(function (name) {
        var field = form && form.fields.filter(function (f) { return f.path.split(".")[0] === name; })[0];
        return field ? T(field.label) : name;
      });
      return T("The diary did not accept some answers: {fields}.", {fields: labels.join("; ")});
    }
    return T("This entry belongs to a diary that this account cannot write in.");
  }

  function reminderOffer() {
    var box = h("div", {id: "reminder-offer"});
    if (!pushSupported() || Notification.permission !== "default" || !state.me.push_key ||
        localStorage.getItem("diary-reminders-asked-" + state.owner)) return box;
    myRecords().then(function (records) {
      if (!records.length) return;
      box.appendChild(h("div", {className: "card notice"}, [
        h("h2", {text: T("Reminders")}),
        h("p", {text: T("Would you like a reminder in the evening if you have not recorded yet, and when a block timepoint is due?")}),
        h("div", {className: "row"}, [
          h("button", {type: "button", text: T("Turn on reminders"), onclick: function () {
            localStorage.setItem("diary-reminders-asked-" + state.owner, "1");
            turnOnReminders().then(function () { say(T("Reminders are on.")); },
                                   function () { say(T("Reminders could not be turned on in this browser.")); });
            box.textContent = "";
          }}),
          h("button", {type: "button", className: "secondary", text: T("Not now"), onclick: function () {
            localStorage.setItem("diary-reminders-asked-" + state.owner, "1");
            box.textContent = "";
          }})])]));
    });
    return box;
  }

  function goalsSection(goals) {
    var nodes = [h("h2", {text: T("My goals")})];
    if (goals.length) nodes.push(h("ul", {}, goals.map(function (goal) { return h("li", {text: goal}); })));
    else nodes.push(h("p", {text: T("What would you like to do again if the treatment works? Write it down.")}));
    nodes.push(link("goals", goals.length ? T("Change my goals") : T("Write my goals")));
    return h("section", {className: "card"}, nodes);
  }

  /* ---- record (and correct) ---- */

  function record() {
    var trial = state.trial;
    if (!trial) return go("", true);
    var correcting = new URLSearchParams(location.search).get("entry");
    var entry = correcting && (state.entries || []).filter(function (e) { return String(e.id) === correcting; })[0];
    if (correcting && !entry) return go("entries", true);
    return loadForm(trial.therapy).then(function (form) {
      var nodes = [heading(entry ? T("Correct an entry") : (form.kind === "timepoints" ? T("Your pain now")
                                                                                          : T("How are you now?")))];
      if (!entry && form.kind === "timepoints") nodes.push(progress(trial, form));
      var formEl = h("form", {novalidate: true, "aria-describedby": "required-note"});
      formEl.appendChild(h("p", {id: "required-note", className: "hint", text: T("Only the first question is needed. Answer the others if you can.")}));
      var error = h("p", {className: "error", role: "alert", id: "form-error"});
      formEl.appendChild(error);
      var panel = h("div", {id: "red-flag"});
      visibleFields(form, trial).forEach(function (field) {
        formEl.appendChild(drawField(field, form, function (event) {
          showRedFlags(panel, form, formEl, trial, event.target);
        }));
        if (field.red_flags && !panel.parentNode) formEl.appendChild(panel);
      });
      if (!panel.parentNode) formEl.appendChild(panel);
      var save = h("button", {type: "submit", className: "big", text: entry ? T("Save the correction") : T("Save")});
      formEl.appendChild(save);
      if (entry) fillForm(formEl, form, entry);
      var saving = false;
      formEl.addEventListener("submit", function (event) {
        event.preventDefault();
        if (saving) return;  // a double tap stores one entry
        var answers = readForm(formEl, form);
        if (!answers.pain || answers.pain.score === undefined) {
          error.textContent = T("Choose a number for your pain right now.");
          var first = formEl.querySelector("input[name='pain.score']");
          if (first) first.focus();
          return;
        }
        saving = true; save.disabled = true;
        (entry ? saveCorrection(entry, answers, form, error) : saveNew(answers)).then(function (done) {
          if (!done) { saving = false; save.disabled = false; }
        });
      });
      nodes.push(formEl);
      nodes.push(h("p", {}, [link("when-to-call", T("When to call the clinic or 911"))]));
      show(nodes);
      showRedFlags(panel, form, formEl, trial);
    });
  }

  function visibleFields(form, trial) {
    var lastDay = Date.now() >= Date.parse(trial.end_at) - DAY;
    return form.fields.filter(function (field) {
      if (field.shown === "last_day") return lastDay;
      if (field.shown === "reported_relief") return trial.relief_measure === "reported";
      return true;
    });
  }

  function fieldId(field) { return "f-" + field.path.replace(/\./g, "-"); }

  function drawField(field, form, changed) {
    var id = fieldId(field), hint = field.hint ? h("p", {className: "hint", id: id + "-hint", text: T(field.hint)}) : null;
    var described = hint ? id + "-hint" : null;
    if (field.kind === "scale") {
      var options = [];
      for (var v = field.low; v <= field.high; v++) options.push({value: v, words: String(v)});
      var ends = field.ends.map(function (end) { return T(end); });
      var group = h("div", {className: "scale"}, options.map(function (option, i) {
        var extra = i === 0 ? ends[0] : (i === options.length - 1 ? ends[1] : null);
        return h("label", {}, [
          h("input", {type: "radio", name: field.path, value: String(option.value), onchange: changed}),
          h("span", {className: "box", "aria-hidden": "true", text: option.words}),
          h("span", {className: "visually-hidden", text: extra ? option.words + ", " + extra : option.words})]);
      }));
      return h("fieldset", {id: id, role: "radiogroup", "aria-describedby": id + "-ends"}, [
        h("legend", {text: T(field.label) + (field.required ? " " + T("(needed)") : "")}), hint, group,
        h("div", {className: "ends", id: id + "-ends"}, [h("span", {text: "0 = " + ends[0]}),
                                                         h("span", {text: field.high + " = " + ends[1]})])]);
    }
    if (field.kind === "choice" || field.kind === "checklist") {
      var multiple = field.kind === "checklist";
      var choices = h("div", {className: multiple ? "checks" : "choices"}, field.options.map(function (option) {
        return h("label", {}, [
          h("input", {type: multiple ? "checkbox" : "radio", name: field.path, value: String(option.value),
                      onchange: changed}),
          h("span", {className: "box", text: T(option.words)})]);
      }));
      var set = h("fieldset", {id: id, "aria-describedby": described}, [h("legend", {text: T(field.label)}), hint,
                                                                        choices]);
      if (!field.collapsed) return set;
      return h("details", {className: "field"}, [h("summary", {text: T("Anything new? Tap to tell us")}), set]);
    }
    if (field.kind === "number") {
      return h("div", {className: "field"}, [h("label", {"for": id, text: T(field.label)}), hint,
        h("input", {type: "number", id: id, name: field.path, inputmode: field.step < 1 ? "decimal" : "numeric",
                    min: field.low, max: field.high, step: field.step, "aria-describedby": described})]);
    }
    if (field.kind === "text") {
      return h("div", {className: "field"}, [h("label", {"for": id, text: T(field.label)}), hint,
        h("textarea", {id: id, name: field.path, maxlength: field.high, "aria-describedby": described})]);
    }
    if (field.kind === "medications") return medicines(field, form);
    return null;
  }

  /* Medicines: one tap re-adds a medicine taken before with its dose; or a generic name, dose, unit and route. */
  function medicines(field, form) {
    var chosen = [], id = fieldId(field);
    var list = h("ul", {className: "medicine-list", id: id + "-chosen", "aria-live": "polite"});
    var box = h("fieldset", {id: id, "data-medications": "1"}, [h("legend", {text: T(field.label)}),
      h("p", {className: "hint", text: T(field.hint)}), list]);
    box.medications = chosen;
    function describe(m) { return m.name + " " + m.dose + " " + m.unit + (m.route ? " (" + m.route + ")" : ""); }
    function redraw() {
      list.textContent = "";
      chosen.forEach(function (m, i) {
        list.appendChild(h("li", {}, [h("span", {text: describe(m)}), h("button", {type: "button",
          className: "secondary", text: T("Remove"), "aria-label": T("Remove") + " " + describe(m),
          onclick: function () { chosen.splice(i, 1); redraw(); }})]));
      });
    }
    box.redraw = redraw;
    var before = h("div", {className: "row"});
    myRecords().then(function (records) {
      var seen = {};
      records.forEach(function (r) {
        (r.body.medications || []).forEach(function (m) { seen[describe(m)] = m; });
      });
      Object.keys(seen).slice(-6).forEach(function (words) {
        before.appendChild(h("button", {type: "button", className: "secondary", text: T("Add again:") + " " + words,
          onclick: function () { chosen.push(seen[words]); redraw(); }}));
      });
    });
    box.appendChild(before);
    var names = h("datalist", {id: id + "-names"}, form.medicines.names.map(function (name) {
      return h("option", {value: name});
    }));
    var name = h("input", {type: "text", id: id + "-name", list: id + "-names", autocomplete: "off"});
    var dose = h("input", {type: "number", id: id + "-dose", min: "0", step: "any", inputmode: "decimal"});
    var unit = h("select", {id: id + "-unit"}, form.medicines.units.map(function (u) {
      return h("option", {value: u, text: u});
    }));
    var route = h("select", {id: id + "-route"}, [h("option", {value: "", text: T("Not sure")})].concat(
      form.medicines.routes.map(function (r) { return h("option", {value: r, text: r}); })));
    var problem = h("p", {className: "error", role: "alert"});
    box.appendChild(h("details", {}, [h("summary", {text: T("Add a medicine")}), names,
      h("div", {className: "field"}, [h("label", {"for": id + "-name", text: T("Medicine name")}), name]),
      h("div", {className: "grid-2"}, [
        h("div", {}, [h("label", {"for": id + "-dose", text: T("Dose")}), dose]),
        h("div", {}, [h("label", {"for": id + "-unit", text: T("Unit")}), unit])]),
      h("div", {className: "field"}, [h("label", {"for": id + "-route", text: T("How you took it")}), route]),
      problem,
      h("button", {type: "button", className: "secondary", text: T("Add this medicine"), onclick: function () {
        var amount = Number(dose.value);
        if (!name.value.trim() || !(amount > 0)) { problem.textContent = T("Write the medicine's name and its dose."); return; }
        var added = {name: name.value.trim().toLowerCase(), dose: amount, unit: unit.value};
        if (route.value) added.route = route.value;
        chosen.push(added); problem.textContent = ""; name.value = ""; dose.value = "";
        redraw();
      }})]));
    return box;
  }

  function setPath(target, path, value) {
    var parts = path.split("."), node = target;
    for (var i = 0; i < parts.length - 1; i++) node = node[parts[i]] = node[parts[i]] || {};
    node[parts[parts.length - 1]] = value;
  }

  function getPath(source, path) {
    return path.split(".").reduce(function (node, part) { return node == null ? undefined : node[part]; }, source);
  }

  function readForm(formEl, form) {
    var answers = {};
    form.fields.forEach(function (field) {
      if (field.kind === "medications") {
        var box = formEl.querySelector("[data-medications]");
        if (box && box.medications.length) answers.medications = box.medications.slice();
        return;
      }
      var inputs = formEl.querySelectorAll("[name='" + field.path + "']");
      if (!inputs.length) return;
      var numeric = field.kind !== "checklist" && field.kind !== "text" &&
        !(field.options || []).some(function (o) { return typeof o.value === "string"; });
      if (field.kind === "checklist") {
        var ticked = Array.prototype.filter.call(inputs, function (i) { return i.checked; })
          .map(function (i) { return i.value; });
        if (ticked.length) setPath(answers, field.path, ticked);
      } else if (field.kind === "scale" || field.kind === "choice") {
        var picked = Array.prototype.filter.call(inputs, function (i) { return i.checked; })[0];
        if (picked) setPath(answers, field.path, numeric ? Number(picked.value) : picked.value);
      } else if (inputs[0].value.trim() !== "") {
        setPath(answers, field.path, field.kind === "number" ? Number(inputs[0].value) : inputs[0].value.trim());
      }
    });
    return answers;
  }

  function fillForm(formEl, form, entry) {
    form.fields.forEach(function (field) {
      var value = getPath(entry, field.path);
      if (value === undefined || value === null) return;
      if (field.kind === "medications") {
        var box = formEl.querySelector("[data-medications]");
        if (box) { value.forEach(function (m) { box.medications.push(m); }); box.redraw(); }
        return;
      }
      var values = Array.isArray(value) ? value.map(String) : [String(value)];
      formEl.querySelectorAll("[name='" + field.path + "']").forEach(function (input) {
        if (input.type === "radio" || input.type === "checkbox") input.checked = values.indexOf(input.value) >= 0;
        else input.value = value;
      });
      if (field.collapsed && values.length) formEl.querySelector("#" + fieldId(field)).parentNode.open = true;
    });
  }

  /* Red flags, offline too: the form's definition says which answers the safety rules rate critical or high. The
     panel shows right under the answer that raised it, where the patient's eyes and thumb are. */
  function showRedFlags(panel, form, formEl, trial, changed) {
    var answers = readForm(formEl, form), worst = null;
    form.fields.forEach(function (field) {
      var given = getPath(answers, field.path);
      if (!field.red_flags || given === undefined) return;
      (Array.isArray(given) ? given : [given]).forEach(function (value) {
        var severity = field.red_flags[String(value)];
        if (severity === "critical" || (severity === "high" && worst !== "critical")) worst = severity;
      });
    });
    var field = changed && form.fields.filter(function (f) { return f.path === changed.name; })[0];
    if (worst && changed && changed.checked && field && field.red_flags && field.red_flags[changed.value]) {
      changed.closest("label").after(panel);
    }
    if ((worst || "") === (panel.getAttribute("data-severity") || "")) return;
    panel.textContent = "";
    panel.setAttribute("data-severity", worst || "");
    panel.removeAttribute("role");
    if (!worst) return;
    panel.appendChild(callNow(worst, trial));
    panel.setAttribute("role", "alert");
  }

  function callNow(severity, trial) {
    var phone = trial && trial.clinic.phone, words = trial && (trial.clinic.phone_readable || phone);
    if (severity === "critical") {
      return h("div", {className: "card danger", "data-call-now": "critical"}, [
        h("h2", {text: T("Call 911 now")}),
        h("p", {text: T("Call 911 or go to an emergency department, then tell the clinic.")}),
        h("p", {}, [h("a", {className: "button", href: "tel:911", text: T("Call 911")})]),
        h("p", {text: T("Your care team also sees this entry once it is sent. Do not wait for them.")})]);
    }
    return h("div", {className: "card danger", "data-call-now": "high"}, [
      h("h2", {text: T("Call the clinic now")}),
      h("p", {text: T("Call the clinic now. Do not wait for them to read your diary.")}),
      phone ? h("p", {}, [h("a", {className: "button", href: "tel:" + telephone(phone),
                                  text: T("Call the clinic: {phone}", {phone: words})})])
            : h("p", {text: T("Call the phone number your clinic gave you.")})]);
  }

  function telephone(phone) { return phone.replace(/[^0-9+]/g, ""); }

  function localMoment(date) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var offset = -date.getTimezoneOffset(), sign = offset >= 0 ? "+" : "-";
    offset = Math.abs(offset);
    return date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate()) + "T" +
      two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds()) + sign +
      two(Math.floor(offset / 60)) + ":" + two(offset % 60);
  }

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" +
      hex.slice(20);
  }

  function saveNew(answers) {
    var body = Object.assign({client_id: newId(), recorded_at: localMoment(new Date())}, answers);
    return DiaryQueue.save(state.owner, state.trial.id, body).then(function () {
      state.flash = T("Saved on this phone.");
      go("");
      askForBackgroundSync();
      sendNow();
      return true;
    });
  }

  function saveCorrection(entry, answers, form, error) {
    var changes = {}, managed = {};
    form.fields.forEach(function (field) { managed[field.path.split(".")[0]] = true; });
    Object.keys(managed).forEach(function (key) {
      var now = answers[key], before = entry[key];
      if (now && before && typeof now === "object" && !Array.isArray(now)) {
        now = Object.assign({}, before, now);  // a nested object is replaced whole: keep what the form does not ask
        form.fields.forEach(function (field) {
          var parts = field.path.split(".");
          if (parts[0] === key && parts[1] && answers[key][parts[1]] === undefined) delete now[parts[1]];
        });
      }
      if (JSON.stringify(now) !== JSON.stringify(before)) changes[key] = now === undefined ? null : now;
    });
    if (!Object.keys(changes).length) { go("entries"); return Promise.resolve(true); }
    return api("PATCH", "trials/" + state.trial.id + "/entries/" + entry.id, changes).then(function (answer) {
      if (answer.status === 200) { state.flash = T("Your correction is saved."); go("entries"); return true; }
      error.textContent = answer.status === 401 ? T("Please sign in again.") : problemWords(
        {status: answer.status, code: (answer.data || {}).code, errors: (answer.data || {}).errors});
      return false;
    }, function () {
      error.textContent = T("You are offline. Corrections can be made when you are connected.");
      return false;
    });
  }

  /* ---- my entries ---- */

  function entries() {
    var trial = state.trial;
    if (!trial) return go("", true);
    var nodes = [heading(T("My entries"))];
    return Promise.all([loadForm(trial.therapy), api("GET", "trials/" + trial.id + "/entries?limit=500")
      .catch(function () { return null; })]).then(function (found) {
      var form = found[0], answer = found[1];
      if (!answer) {
        nodes.push(h("p", {text: T("You are offline. Your entries can be read and corrected when you are connected.")}));
        return show(nodes);
      }
      if (answer.status === 401) { state.signedOut = true; return go("sign-in"); }
      var items = (answer.data.items || []).sort(function (a, b) {
        return Date.parse(b.recorded_at) - Date.parse(a.recorded_at);
      });
      state.entries = items;
      if (!items.length) nodes.push(h("p", {text: T("No entries have reached your care team yet.")}));
      nodes.push(h("ul", {className: "entries"}, items.map(function (item) { return serverEntry(item, form); })));
      show(nodes);
    });
  }

  function serverEntry(item, form) {
    var symptoms = (item.symptoms || []).map(function (name) {
      var field = form.fields.filter(function (f) { return f.path === "symptoms"; })[0];
      var option = field && field.options.filter(function (o) { return o.value === name; })[0];
      return option ? T(option.words) : name;
    });
    var li = h("li", {"data-entry": String(item.id)}, [
      h("strong", {text: formatDay(item.recorded_at) + " " + formatTime(Date.parse(item.recorded_at))}), " · ",
      T("Pain {n} of 10", {n: item.pain.score}),
      symptoms.length ? h("p", {text: symptoms.join(", ")}) : null,
      item.version > 1 ? h("p", {className: "hint", text: T("Corrected")}) : null]);
    if (item.voided) {
      li.appendChild(h("p", {className: "state state-attention", text: T("Removed")}));
      return li;
    }
    var actions = h("div", {className: "row"}, [
      h("button", {type: "button", className: "secondary", text: T("Correct"),
                   "aria-label": T("Correct") + " " + formatTime(Date.parse(item.recorded_at)),
                   onclick: function () { history.pushState(null, "", ROOT + "record?entry=" + item.id);
                                          state.moved = true; render(); }}),
      h("button", {type: "button", className: "secondary", text: T("Remove"),
                   "aria-label": T("Remove") + " " + formatTime(Date.parse(item.recorded_at)),
                   onclick: function () { askRemoval(li, item, actions); }})]);
    li.appendChild(actions);
    return li;
  }

  var REASONS = ["Recorded by mistake", "Wrong day or time", "Recorded twice"];

  function askRemoval(li, item, actions) {
    actions.hidden = true;
    var name = "reason-" + item.id, problem = h("p", {className: "error", role: "alert"});
    var form = h("form", {}, [h("fieldset", {}, [h("legend", {text: T("Why remove this entry?")}),
      h("div", {className: "choices"}, [T("Recorded by mistake"), T("Wrong day or time"), T("Recorded twice")]
        .map(function (words, i) {
          return h("label", {}, [h("input", {type: "radio", name: name, value: REASONS[i]}),
                                 h("span", {className: "box", text: words})]);
        }))]), problem,
      h("div", {className: "row"}, [h("button", {type: "submit", text: T("Remove the entry")}),
        h("button", {type: "button", className: "secondary", text: T("Keep it"), onclick: function () {
          form.remove(); actions.hidden = false; }})])]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = form.querySelector("input:checked");
      if (!picked) { problem.textContent = T("Choose a reason."); return; }
      api("DELETE", "trials/" + state.trial.id + "/entries/" + item.id, {reason: picked.value}).then(function (answer) {
        if (answer.status === 200) { state.flash = T("The entry is removed."); state.moved = true; render(); }
        else problem.textContent = problemWords({status: answer.status, code: (answer.data || {}).code});
      }, function () { problem.textContent = T("You are offline. Corrections can be made when you are connected."); });
    });
    li.appendChild(form);
    form.querySelector("input").focus();
  }

  /* ---- when to call ---- */

  function whenToCall() {
    var trial = state.trial;
    return loadForm(trial ? trial.therapy : "scs").then(function (form) {
      var lists = {critical: [], high: []};
      form.fields.forEach(function (field) {
        var words = {};
        (field.options || []).forEach(function (o) { words[String(o.value)] = T(o.words); });
        Object.keys(field.red_flags || {}).forEach(function (value) {
          lists[field.red_flags[value]].push(field.path === "sedation_score" ? T(field.label) + " " + words[value]
                                                                              : words[value]);
        });
      });
      var phone = trial && trial.clinic.phone, words = trial && (trial.clinic.phone_readable || phone);
      show([heading(T("When to call")),
        h("section", {className: "card danger", "aria-labelledby": "call-911"}, [
          h("h2", {id: "call-911", text: T("Call 911 now")}),
          h("p", {text: T("Call 911 or go to an emergency department, then tell the clinic, if you have any of these:")}),
          h("ul", {}, lists.critical.map(function (w) { return h("li", {text: w}); })),
          h("p", {}, [h("a", {className: "button", href: "tel:911", text: T("Call 911")})])]),
        h("section", {className: "card warning", "aria-labelledby": "call-clinic"}, [
          h("h2", {id: "call-clinic", text: T("Call the clinic now")}),
          h("p", {text: T("Call the clinic now, day or night, if you have any of these:")}),
          h("ul", {}, lists.high.map(function (w) { return h("li", {text: w}); })),
          phone ? h("p", {}, [h("a", {className: "button", href: "tel:" + telephone(phone),
                                      text: T("Call the clinic: {phone}", {phone: words})})])
                : h("p", {text: T("Call the phone number your clinic gave you.")})]),
        h("p", {text: T("For anything else that worries you, call the clinic during its opening hours.")}),
        trial && state.me && !state.signedOut ? callBackSection(trial) : null]);
    });
  }

  /* "Call me back": one big button that tells the care team at once; they call the patient's number. It needs
     the internet and says so: a request kept on the phone could reach the clinic hours later, when it no longer
     helps, so offline the page offers the clinic's phone instead. Asking again while a request is open says when
     it was asked (the server keeps one open request per trial). */
  function callBackSection(trial) {
    var result = h("div", {id: "call-back-result", role: "status"});
    var button = h("button", {type: "button", className: "big secondary", id: "call-back",
                              "aria-describedby": "call-back-hint",
                              text: T("Call me back")});
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-busy") === "true") return;  // a double tap asks once
      button.setAttribute("aria-busy", "true");
      result.textContent = "";
      var done = function (nodes) {
        button.removeAttribute("aria-busy");
        result.className = "card notice";
        nodes.forEach(function (node) { result.appendChild(node); });
      };
      var offline = function () {
        done([h("p", {text: T("You are offline, so your care team cannot get your request. Connect to the internet and tap the button again, or call the clinic now.")}),
              clinicCall(trial)]);
      };
      if (!navigator.onLine) return offline();
      api("POST", "trials/" + trial.id + "/call-back").then(function (answer) {
        if (answer.status === 201) {
          return done([h("p", {text: T("Your care team has been asked to call you back.")})]
            .concat(callNumber(answer.data.call_number), [h("p", {text: T("If it is an emergency, call 911 now.")})]));
        }
        if (answer.status === 200) {
          return done([h("p", {text: T("You asked at {time}. Your care team will call you back.",
                                      {time: formatTime(Date.parse(answer.data.requested_at))})})]
            .concat(callNumber(answer.data.call_number),
                    [h("p", {text: T("If you need help sooner, call the clinic.")}), clinicCall(trial)]));
        }
        if (answer.status === 401) {
          state.signedOut = true;
          return done([h("p", {text: T("Please sign in again.")}), link("sign-in", T("Sign in"), "button")]);
        }
        if ((answer.data || {}).code === "trial_closed") {
          return done([h("p", {text: T("Your diary is closed, so this request cannot be sent. Please call your clinic.")}),
                       clinicCall(trial)]);
        }
        return done([h("p", {text: T("The request could not be sent. Please call the clinic.")}), clinicCall(trial)]);
      }, offline);
    });
    return h("section", {className: "card", id: "call-back-section", "aria-labelledby": "call-back-title"}, [
      h("h2", {id: "call-back-title", text: T("Ask the clinic to call you")}),
      h("p", {id: "call-back-hint", text: T("Your care team is told at once, and a nurse calls you back. This is not for emergencies: then call 911.")}),
      button, result]);
  }

  /* Which number the nurse will call; without one on file, the way to add it. */
  function callNumber(number) {
    if (number) return [h("p", {text: T("A nurse will call you at {number}. Keep your phone near you.", {number: number})})];
    return [h("p", {text: T("Your clinic has no mobile number for you. Add it on the Reminders page so that they can call you, or call the clinic.")}),
            link("install", T("Add my mobile number"), "button secondary")];
  }

  function clinicCall(trial) {
    var phone = trial.clinic.phone, words = trial.clinic.phone_readable || phone;
    return phone ? h("p", {}, [h("a", {className: "button", href: "tel:" + telephone(phone),
                                       text: T("Call the clinic: {phone}", {phone: words})})])
                 : h("p", {text: T("Call the phone number your clinic gave you.")});
  }

  /* ---- install and reminders ---- */

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function bytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - base64url.length % 4) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }

  function turnOnReminders() {
    if (!pushSupported() || !state.me || !state.me.push_key) return Promise.reject(new Error("unavailable"));
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("denied");
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        return existing || registration.pushManager.subscribe(
          {userVisibleOnly: true, applicationServerKey: bytes(state.me.push_key)});
      });
    }).then(function (subscription) {
      return api("POST", "devices", {subscription: subscription.toJSON()});
    }).then(function (answer) {
      if (answer.status !== 200 && answer.status !== 201) throw new Error("refused");
    });
  }

  function install() {
    var nodes = [heading(T("Install and reminders")),
      h("h2", {text: T("Add the diary to your home screen")}),
      h("h3", {text: T("iPhone or iPad")}),
      h("ol", {}, [h("li", {text: T("Open this page in Safari.")}),
                   h("li", {text: T("Tap the Share button (a square with an arrow pointing up).")}),
                   h("li", {text: T("Tap Add to Home Screen, then Add.")})]),
      h("p", {className: "card warning", text: T("On an iPhone, please add the diary to your home screen: otherwise Safari deletes what the diary keeps on your phone after 7 days without a visit, and it can send reminders only to pages on the home screen (iOS 16.4 or later).")}),
      h("h3", {text: T("Android")}),
      h("ol", {}, [h("li", {text: T("Open this page in Chrome.")}),
                   h("li", {text: T("Tap Install when it is offered, or open the menu (three dots) and tap Add to Home screen or Install app.")})])];
    if (state.installPrompt) {
      nodes.push(h("button", {type: "button", text: T("Install the diary"), onclick: function () {
        state.installPrompt.prompt(); state.installPrompt = null;
      }}));
    }
    nodes.push(h("h2", {text: T("Reminders")}));
    var problem = h("p", {className: "error", role: "alert"});
    if (!pushSupported()) {
      nodes.push(h("p", {text: T("This browser cannot show reminders. On an iPhone, add the diary to your home screen first.")}));
    } else if (!state.me || state.signedOut) {
      nodes.push(h("p", {text: T("Sign in to turn on reminders.")}));
    } else {
      var toggle = h("button", {type: "button", role: "switch", "aria-checked": "false", className: "secondary",
                                id: "reminders", text: T("Evening and timepoint reminders")});
      nodes.push(h("p", {className: "hint", text: T("A reminder in the evening if you have not recorded yet, and at each time to record after a block.")}));
      nodes.push(toggle, problem);
      navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription();
      }).then(function (subscription) {
        toggle.setAttribute("aria-checked", subscription && Notification.permission === "granted" ? "true" : "false");
      }).catch(function () { /* no subscription yet */ });
      toggle.addEventListener("click", function () {
        problem.textContent = "";
        if (toggle.getAttribute("aria-checked") === "true") {
          navigator.serviceWorker.ready.then(function (registration) { return registration.pushManager.getSubscription(); })
            .then(function (subscription) { return subscription && subscription.unsubscribe(); })
            .then(function () { toggle.setAttribute("aria-checked", "false"); say(T("Reminders are off.")); });
          return;
        }
        turnOnReminders().then(function () {
          toggle.setAttribute("aria-checked", "true"); say(T("Reminders are on."));
        }, function () { problem.textContent = T("Reminders could not be turned on in this browser."); });
      });
    }
    nodes.push(textSettings());
    show(nodes);
  }

  /* The patient's mobile number and consent to texts (reminders when the diary has no other way, sign-in
     links). The number is checked by the server (any country; without a country code, a US number). */
  function textSettings() {
    var section = h("section", {className: "card", id: "texts", "aria-labelledby": "texts-title"},
                    [h("h2", {id: "texts-title", text: T("Text messages")})]);
    if (!state.me || state.signedOut) {
      section.appendChild(h("p", {text: T("Sign in to get reminders and sign-in links by text message.")}));
      return section;
    }
    api("GET", "me/texting").then(function (answer) {
      if (answer.status === 200) return textForm(section, answer.data);
      section.appendChild(h("p", {text: T("Please sign in again.")}));
    }, function () {
      section.appendChild(h("p", {text: T("You are offline. Your text message settings can be changed when you are connected.")}));
    });
    return section;
  }

  function textForm(section, settings) {
    var number = h("input", {type: "tel", id: "mobile-number", autocomplete: "tel", inputmode: "tel",
                             value: settings.mobile_number || "", "aria-describedby": "mobile-number-hint"});
    var consent = h("input", {type: "checkbox", id: "sms-consent", checked: settings.sms_consent,
                              "aria-describedby": "sms-consent-hint"});
    var problem = h("p", {className: "error", role: "alert", id: "texts-problem"});
    var textsState = h("p", {className: "hint", id: "texts-state"});
    var stopped = settings.sms_opted_out_at ? h("p", {className: "card warning", text: T("You replied STOP to one of our texts, so none are sent. To get them again, reply START to one of them.")}) : null;
    function showState(now) {
      textsState.textContent = now.textable ? T("Texts are on.") : T("Texts are off.");
    }
    showState(settings);
    var form = h("form", {novalidate: true}, [
      h("p", {className: "hint", text: T("A text in the evening if you have not recorded yet and have no other reminder, and sign-in links when you ask. Texts say only your clinic's name, what to do and a link: nothing about your health.")}),
      h("div", {className: "field"}, [h("label", {"for": "mobile-number", text: T("Mobile number")}),
        h("p", {className: "hint", id: "mobile-number-hint", text: T("With the country code if it is not a US number, such as +1 201 555 0123.")}),
        number]),
      h("div", {className: "field checks"}, [h("label", {}, [consent, h("span", {className: "box", text: T("Send me text messages")})]),
        h("p", {className: "hint", id: "sms-consent-hint", text: T("Untick it to stop them. You can also reply STOP to any text.")})]),
      stopped, problem, textsState,
      h("button", {type: "submit", className: "big", text: T("Save my text settings")})]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      problem.textContent = "";
      number.removeAttribute("aria-invalid");
      var typed = number.value.trim();
      if (consent.checked && !typed) {
        problem.textContent = T("Mobile number: write the number the texts should go to.");
        number.setAttribute("aria-invalid", "true");
        number.focus();
        return;
      }
      api("PATCH", "me/texting", {mobile_number: typed || null, sms_consent: consent.checked}).then(function (answer) {
        if (answer.status === 200) {
          number.value = answer.data.mobile_number || "";
          showState(answer.data);
          say(T("Your text message settings are saved.") + " " + textsState.textContent);
          return;
        }
        if (answer.status === 401) { problem.textContent = T("Please sign in again."); return; }
        if (((answer.data || {}).errors || {}).mobile_number) {
          problem.textContent = T("Mobile number: this is not a mobile phone number. Write it with its country code if it is not a US number, such as +1 201 555 0123.");
          number.setAttribute("aria-invalid", "true");
          number.focus();
          return;
        }
        problem.textContent = T("Your text message settings could not be saved. Try again.");
      }, function () {
        problem.textContent = T("You are offline. Your text message settings can be changed when you are connected.");
      });
    });
    section.appendChild(form);
  }

  /* ---- goals ---- */

  function goals() {
    var current = state.me.profile.goals;
    var problem = h("p", {className: "error", role: "alert"});
    var inputs = [0, 1, 2].map(function (i) {
      return h("input", {type: "text", id: "goal-" + i, maxlength: "120", value: current[i] || ""});
    });
    var form = h("form", {novalidate: true}, [h("p", {className: "hint", id: "goals-hint", text: T("Up to three things you would like to do again, in your own words. For example: walk to the mailbox, sleep through the night.")})]
      .concat(inputs.map(function (input, i) {
        input.setAttribute("aria-describedby", "goals-hint");
        return h("div", {className: "field"}, [h("label", {"for": input.id, text: T("Goal {n}", {n: i + 1})}), input]);
      })).concat([problem, h("button", {type: "submit", className: "big", text: T("Save my goals")})]));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var wanted = inputs.map(function (i) { return i.value.trim(); }).filter(Boolean);
      api("PATCH", "me", {goals: wanted}).then(function (answer) {
        if (answer.status !== 200) { problem.textContent = T("Your goals could not be saved. Keep each one short."); return; }
        state.me.profile = answer.data;
        DiaryQueue.meta("profile:" + state.owner, state.me);
        state.flash = T("Your goals are saved.");
        go("");
      }, function () { problem.textContent = T("You are offline. Your goals can be saved when you are connected."); });
    });
    show([heading(T("My goals")), form]);
  }

  /* ---- sign in, enroll, sign out ---- */

  function showPassword(input) {
    var id = input.id + "-show";
    return h("div", {className: "field"}, [h("label", {"for": id, className: "hint"}, [
      h("input", {type: "checkbox", id: id, onchange: function (event) {
        input.type = event.target.checked ? "text" : "password"; }}), " ", T("Show the password")])]);
  }

  function signInProblem(answer) {
    var code = (answer.data || {}).code;
    if (answer.status === 429) return T("Too many attempts. Wait a few minutes, then try again.");
    if (code === "staff_account") return T("This page is for patients. The care team signs in to the clinic console.");
    if (code === "diary_closed") return T("Your diary is closed: your trial is over. Thank you. If you have a question, call your clinic.");
    if (answer.status === 422) return T("Write your email and your password.");
    return T("The email or the password is not correct.");
  }

  function signIn() {
    var email = h("input", {type: "email", id: "email", autocomplete: "username", required: true});
    var password = h("input", {type: "password", id: "password", autocomplete: "current-password", required: true});
    var problem = h("p", {className: "error", role: "alert"});
    var button = h("button", {type: "submit", className: "big", text: T("Sign in")});
    var form = h("form", {novalidate: true}, [
      h("div", {className: "field"}, [h("label", {"for": "email", text: T("Email")}), email]),
      h("div", {className: "field"}, [h("label", {"for": "password", text: T("Password")}), password]),
      showPassword(password), problem, button]);
    var nodes = [heading(T("Sign in"))], refused = state.linkProblem;
    if (refused) {
      nodes.push(h("div", {className: "card warning", id: "link-problem"}, [h("p", {text: linkProblemWords(refused)})]));
      state.linkProblem = null;
    }
    if (state.signedOut) nodes.push(signInAgainNotice());
    nodes.push(form, linkRequest(!!refused), h("p", {}, [link("enroll", T("First time here? Use the code from your clinic"))]));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      api("POST", "sign-in", {email: email.value.trim(), password: password.value}).then(function (answer) {
        if (answer.status !== 200) { problem.textContent = signInProblem(answer); button.disabled = false; return null; }
        return signedIn();
      }, function () {
        problem.textContent = T("You are offline. Connect to the internet to sign in.");
        button.disabled = false;
      });
    });
    show(nodes);
  }

  /* "Text me a sign-in link": the answer is the same whether or not the number is known. */
  function linkRequest(open) {
    var number = h("input", {type: "tel", id: "link-number", autocomplete: "tel", inputmode: "tel",
                             "aria-describedby": "link-number-hint"});
    var answer = h("p", {id: "link-answer", role: "status"});
    var button = h("button", {type: "submit", className: "secondary", text: T("Text me a sign-in link")});
    var form = h("form", {novalidate: true}, [
      h("div", {className: "field"}, [h("label", {"for": "link-number", text: T("Mobile number")}),
        h("p", {className: "hint", id: "link-number-hint", text: T("The number your clinic has for you. The link works once, for 15 minutes.")}),
        number]),
      button, answer]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      answer.className = "";
      number.removeAttribute("aria-invalid");
      button.disabled = true;
      api("POST", "sign-in-link", {mobile_number: number.value.trim()}).then(function (reply) {
        button.disabled = false;
        if (reply.status === 202) {
          answer.textContent = T("If this number can receive your diary's texts, a link is on its way. It works once, for 15 minutes.");
          return;
        }
        answer.className = "error";
        if (reply.status === 429) { answer.textContent = T("Too many attempts. Wait a few minutes, then try again."); return; }
        answer.textContent = T("Mobile number: this is not a mobile phone number. Write it with its country code if it is not a US number, such as +1 201 555 0123.");
        number.setAttribute("aria-invalid", "true");
        number.focus();
      }, function () {
        button.disabled = false;
        answer.className = "error";
        answer.textContent = T("You are offline. Connect to the internet to get a sign-in link.");
      });
    });
    return h("details", {className: "card", id: "link-request", open: open}, [
      h("summary", {text: T("Forgot your password? Get a sign-in link by text")}), form]);
  }

  function signedIn() {
    return refreshMe().then(function () {
      if (!state.me || state.signedOut) return null;
      keepForms();
      return loadTexts(chosenLanguage()).then(function () {
        go("");
        return sendNow();
      });
    });
  }

  /* A sign-in link from a text message: /diary/sign-in/link#token=... The token is in the fragment, which the
     browser never sends (no server or proxy log, no Referer); the page takes it out of the address bar and the
     history at once and posts it. The link works once: a second use, an expired link or one sent before the
     account changed lands on the sign-in page saying so, in the patient's language. */
  function signInByLink() {
    var found = /[#&]token=([^&]+)/.exec(location.hash);
    if (found) {
      state.linkToken = decodeURIComponent(found[1]);  // kept in memory only, for "Try again" when offline
      history.replaceState(null, "", ROOT + "sign-in/link");
    }
    var token = state.linkToken;
    if (!token) return linkRefused({code: "sign_in_link_not_valid"});
    show([heading(T("Opening your diary…"))]);
    return api("POST", "sign-in/link", {token: token}).then(function (answer) {
      state.linkToken = null;
      if (answer.status === 200) return signedIn();
      var body = answer.data || {};
      return linkRefused({status: answer.status, code: body.code, language: (body.details || {}).language});
    }, function () {
      var again = h("button", {type: "button", className: "big", text: T("Try again"), onclick: function () {
        state.moved = true; render(); }});
      show([heading(T("You are offline")),
            h("p", {text: T("Opening your diary with this link needs the internet. Connect, then tap Try again. The link works for 15 minutes after it was sent.")}),
            again]);
    });
  }

  function linkRefused(problem) {
    var language = LANGUAGES.indexOf(problem.language) >= 0 ? problem.language : null;
    var already = state.me && !state.signedOut;  // already signed in on this phone: today, saying why
    if (language && !already) localStorage.setItem("diary-language", language);
    return (language && !already ? loadTexts(language) : Promise.resolve()).then(function () {
      state.linkProblem = already ? null : problem;
      state.flash = linkProblemWords(problem);
      go(already ? "" : "sign-in", true);
    });
  }

  function linkProblemWords(problem) {
    if (problem.status === 429) return T("Too many attempts. Wait a few minutes, then try again.");
    if (problem.code === "diary_closed") return signInProblem({status: 401, data: {code: "diary_closed"}});
    if (problem.code === "sign_in_link_used") return T("This sign-in link was used already: each link works once. Sign in with your password, or ask for a new link.");
    if (problem.code === "sign_in_link_expired") return T("This sign-in link has expired: links work for 15 minutes. Sign in with your password, or ask for a new link.");
    if (problem.code === "sign_in_link_withdrawn") return T("This sign-in link no longer works, because your account changed after it was sent. Sign in with your password, or ask your clinic for help.");
    return T("This sign-in link does not work. Open the whole link from the text message, or sign in with your password.");
  }

  function enroll() {
    var fromLink = /[#&]code=([^&]+)/.exec(location.hash);
    if (fromLink) {
      state.draft = Object.assign(state.draft || {}, {code: decodeURIComponent(fromLink[1])});
      history.replaceState(null, "", ROOT + "enroll");  // the code leaves the address bar and the history
    }
    var draft = state.draft || {};
    var code = h("input", {type: "text", id: "code", autocomplete: "one-time-code", autocapitalize: "characters",
                           spellcheck: "false", value: draft.code || "", "aria-describedby": "code-hint"});
    var password = h("input", {type: "password", id: "new-password", autocomplete: "new-password",
                               "aria-describedby": "password-hint"});
    var problem = h("p", {className: "error", role: "alert"});
    var button = h("button", {type: "submit", className: "big", text: T("Start my diary")});
    var languages = h("fieldset", {}, [h("legend", {text: T("Language")}), h("div", {className: "choices"},
      LANGUAGES.map(function (language) {
        return h("label", {lang: language}, [h("input", {type: "radio", name: "language", value: language,
          checked: language === state.language, onchange: function () {
            state.draft = {code: code.value};
            localStorage.setItem("diary-language", language);
            loadTexts(language).then(function () { state.moved = false; render(); });
          }}), h("span", {className: "box", text: LANGUAGE_NAMES[language]})]);
      }))]);
    var form = h("form", {novalidate: true}, [
      h("div", {className: "field"}, [h("label", {"for": "code", text: T("Your code")}),
        h("p", {className: "hint", id: "code-hint", text: T("It is on the paper from your clinic, and looks like ABCD-EFGH-JKLM.")}), code]),
      languages,
      h("div", {className: "field"}, [h("label", {"for": "new-password", text: T("Choose a password")}),
        h("p", {className: "hint", id: "password-hint", text: T("At least 10 characters. A short sentence you will remember works well, such as: my dog likes long walks. Common passwords, simple patterns like 1234567890, and your email name are not accepted.")}),
        h("p", {className: "hint", text: T("Already keep this diary with another clinic? Enter the password you use there.")}),
        password]),
      showPassword(password), problem, button]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      api("POST", "enroll", {enrollment_code: code.value.trim(), password: password.value,
                             language: state.language}).then(function (answer) {
        if (answer.status === 200) { state.draft = null; return signedIn(); }
        button.disabled = false;
        var errors = (answer.data || {}).errors || {};
        if (answer.status === 429) problem.textContent = T("Too many attempts. Wait a few minutes, then try again.");
        else if (errors.enrollment_code) problem.textContent = T("Type the code from your clinic.");
        else if (errors.password) problem.textContent = T("This password is too easy to guess. Try a short sentence you will remember.");
        else if ((answer.data || {}).code === "diary_closed") problem.textContent = signInProblem(answer);
        else problem.textContent = T("This code or password does not work. A code works once, for 3 days: ask your clinic for a new one. If you already keep this diary with another clinic, enter the password you use there.");
        return null;
      }, function () {
        button.disabled = false;
        problem.textContent = T("You are offline. Connect to the internet to start your diary.");
      });
    });
    show([heading(T("Start your diary")), h("p", {text: T("Your clinic gave you a code on paper, or as a QR code to open with your phone's camera.")}), form,
          h("p", {}, [link("sign-in", T("Already started? Sign in"))])]);
  }

  function signOut() {
    waitingCount().then(function (n) {
      if (!n) return finishSignOut();
      var dialog = h("dialog", {"aria-labelledby": "leave-title"}, [
        h("h2", {id: "leave-title", text: T("Sign out?")}),
        h("p", {text: n === 1 ? T("1 entry has not been sent yet.") : T("{n} entries have not been sent yet.", {n: n})}),
        h("p", {text: T("They stay on this phone and are sent the next time you sign in.")}),
        h("div", {className: "row"}, [
          h("button", {type: "button", text: T("Sign out anyway"), onclick: function () {
            dialog.close(); dialog.remove(); finishSignOut(); }}),
          h("button", {type: "button", className: "secondary", text: T("Stay signed in"), onclick: function () {
            dialog.close(); dialog.remove(); }})])]);
      document.body.appendChild(dialog);
      dialog.showModal();
    });
  }

  function finishSignOut() {
    var done = function () {
      state.me = null; state.trial = null; state.signedOut = false; state.entries = null;
      return DiaryQueue.meta("owner", null).then(function () { state.owner = null; go("sign-in"); say(T("You are signed out.")); });
    };
    return api("POST", "sign-out").then(done, done);
  }

  /* ---------- dates ---------- */

  function formatTime(ms) {
    return new Date(ms).toLocaleTimeString(state.language, {hour: "numeric", minute: "2-digit"});
  }

  function formatDay(iso) {
    return new Date(Date.parse(iso)).toLocaleDateString(state.language, {weekday: "short", day: "numeric", month: "short"});
  }

  /* ---------- start ---------- */

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(ROOT + "sw.js", {scope: ROOT}).catch(function () {
      /* without it the page still works online */
    });
    navigator.serviceWorker.addEventListener("controllerchange", keepForms);
  }

  /* The service worker keeps a form once it has seen it asked for: ask again once it controls the page (on the
     first visit it starts controlling only after the page loaded its forms). */
  function keepForms() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller || !state.me) return;
    state.me.trials.forEach(function (trial) {
      fetch(ROOT + "forms/" + trial.therapy + ".json").catch(function () { /* offline: kept already or later */ });
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("a[data-route]");
    if (!target || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    go(target.getAttribute("data-route"));
  });
  window.addEventListener("popstate", function () { state.moved = true; render(); });
  window.addEventListener("online", function () { sendNow().then(refreshQueueViews); });
  window.addEventListener("offline", refreshQueueViews);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) sendNow(); });
  window.addEventListener("beforeinstallprompt", function (event) { event.preventDefault(); state.installPrompt = event; });

  registerWorker();
  DiaryQueue.meta("owner").then(function (owner) {
    state.owner = owner === undefined ? null : owner;
    return state.owner === null ? null : DiaryQueue.meta("profile:" + state.owner);
  }).then(function (kept) {
    if (kept) applyMe(kept, false);
    fetchTexts(chosenLanguage());  // while the server is asked who is signed in: one round trip, not two
    return refreshMe();
  }).then(function () {
    return loadTexts(chosenLanguage());
  }).then(function () {
    return render();
  }).then(function () {
    keepForms();
    return sendNow();
  });
})();
