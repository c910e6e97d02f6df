/* The diary's service worker (scope /diary/): the page opens with no network. It keeps the shell (HTML, CSS,
   scripts, icon, manifest), both languages' texts and the form definitions; every page of the diary is drawn from
   the one shell. It never keeps an API answer: /diary/api/ goes to the network untouched. */
"use strict";
importScripts("{{ url_for('diary.static', filename='queue.js') }}");

var VERSION = "{{ version }}";
var CACHE = "trial-diary-" + VERSION;
var SHELL = "{{ precache[0] }}";
var PRECACHE = {{ precache | tojson }};
var API = "{{ url_for('diary.page_today') }}api/";
var FORMS = "{{ forms_prefix }}";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(PRECACHE.map(function (url) { return new Request(url, {cache: "reload"}); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf("trial-diary-") === 0 && name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf(API) === 0) {
    return;  // the network, as if there were no service worker: API answers are never cached
  }
  if (request.mode === "navigate") {
    event.respondWith(caches.match(SHELL).then(function (shell) { return shell || fetch(request); }));
    return;
  }
  if (url.pathname.indexOf(FORMS) === 0) {  // a therapy's form: kept once the patient's page has asked for it
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (kept) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
        return kept || fresh;
      });
    }));
    return;
  }
  event.respondWith(caches.match(request, {ignoreSearch: true}).then(function (kept) {
    return kept || fetch(request);
  }));
});

/* Background Sync where the browser has it (Chromium): one more chance to send. Nothing depends on it. */
self.addEventListener("sync", function (event) {
  if (event.tag === "send-diary") event.waitUntil(self.DiaryQueue.send(API));
});

self.addEventListener("push", function (event) {
  var message = {};
  try { message = event.data ? event.data.json() : {}; } catch (e) { message = {}; }
  event.waitUntil(self.registration.showNotification(message.title || "Trial Diary", {
    body: message.body || "", tag: (message.data && message.data.type) || "diary",
    icon: "{{ url_for('diary.static', filename='icon.svg') }}", data: message.data || {}
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({type: "window"}).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url.indexOf(SHELL) === 0 && "focus" in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow("{{ url_for('diary.page_record') }}");
  }));
});
