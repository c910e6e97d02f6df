/* The diary's queue: every entry is saved on this device (IndexedDB) before anything is sent, and is "sent" only
   once the server answered 201 (stored) or 200 (stored before: a replay of the same client_id). Shared by the
   page (app.js) and the service worker (Background Sync), so there is one sender. Records belong to the patient
   who saved them (`owner`): another account on this device never lists or sends them. */
(function (scope) {
  "use strict";
  var NAME = "trial-diary", VERSION = 1, KEEP_SENT_MS = 3 * 86400000;
  var opened = null, sending = null;

  function open() {
    if (opened) return opened;
    opened = new Promise(function (resolve, reject) {
      var request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("entries", {keyPath: "client_id"}).createIndex("owner", "owner");
        db.createObjectStore("meta");
      };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () { db.close(); opened = null; };
        resolve(db);
      };
      request.onerror = function () { opened = null; reject(request.error); };
    });
    return opened;
  }

  function run(store, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(store, mode), result;
        var request = work(transaction.objectStore(store));
        if (request) request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function meta(key, value) {
    if (value === undefined) return run("meta", "readonly", function (s) { return s.get(key); });
    return run("meta", "readwrite", function (s) { return value === null ? s.delete(key) : s.put(value, key); });
  }

  function put(record) { return run("entries", "readwrite", function (s) { return s.put(record); }); }

  function list(owner) {
    return run("entries", "readonly", function (s) { return s.index("owner").getAll(owner); })
      .then(function (records) { return records.sort(function (a, b) { return a.saved_at - b.saved_at; }); });
  }

  /* Keep an entry on this device first; the page then asks for it to be sent. */
  function save(owner, trialId, body) {
    return put({client_id: body.client_id, owner: owner, trial_id: trialId, body: body, state: "waiting",
                saved_at: Date.now()});
  }

  function prune(owner) {
    var old = Date.now() - KEEP_SENT_MS;
    return list(owner).then(function (records) {
      return Promise.all(records.filter(function (r) { return r.state === "sent" && r.sent_at < old; })
        .map(function (r) { return run("entries", "readwrite", function (s) { return s.delete(r.client_id); }); }));
    });
  }

  /* One entry: "sent", "attention" (409, 422: kept with the reason), "signed_out" (401: kept, the patient signs
     in again), or "later" (no network, the server busy or down: kept as it was). */
  function post(api, record) {
    return fetch(api + "trials/" + record.trial_id + "/entries", {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-Diary-Request": "1"}, body: JSON.stringify(record.body)
    }).then(function (response) {
      var status = response.status;
      if (status === 201 || status === 200) {
        return response.json().then(function (stored) {
          record.state = "sent"; record.entry_id = stored.id; record.sent_at = Date.now(); delete record.problem;
          return put(record).then(function () { return "sent"; });
        });
      }
      if (status === 401) return "signed_out";
      if (status === 409 || status === 422 || status === 403 || status === 404) {
        return response.json().catch(function () { return {}; }).then(function (problem) {
          record.state = "attention";
          record.problem = {status: status, code: problem.code || "", errors: problem.errors || null};
          return put(record).then(function () { return "attention"; });
        });
      }
      return "later";
    }, function () { return "later"; });
  }

  function sendAll(api) {
    return meta("owner").then(function (owner) {
      var summary = {sent: 0, attention: 0, signedOut: false, stopped: false};
      if (owner === undefined || owner === null) return summary;
      return list(owner).then(function (records) {
        var waiting = records.filter(function (r) { return r.state === "waiting"; });
        return waiting.reduce(function (chain, record) {
          return chain.then(function () {
            if (summary.signedOut || summary.stopped) return null;
            return post(api, record).then(function (outcome) {
              if (outcome === "sent") summary.sent += 1;
              else if (outcome === "attention") summary.attention += 1;
              else if (outcome === "signed_out") summary.signedOut = true;
              else summary.stopped = true;
            });
          });
        }, Promise.resolve()).then(function () { return prune(owner); }).then(function () { return summary; });
      });
    });
  }

  /* Send the signed-in patient's waiting entries, oldest first, one at a time; one sender per device at once
     (Web Locks where the browser has them: a page and the service worker never send the same entry together,
     and if they did, the same client_id is stored once). */
  function send(api) {
    if (sending) return sending;
    var work = function () { return sendAll(api); };
    var locks = scope.navigator && scope.navigator.locks;
    sending = (locks ? locks.request("trial-diary-send", work) : work())
      .finally(function () { sending = null; });
    return sending;
  }

  scope.DiaryQueue = {meta: meta, list: list, save: save, put: put, send: send};
})(self);
