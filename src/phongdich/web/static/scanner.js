// The scanner page keeps working when the network drops (rural gates lose it often).
//
// Without this script the page is a plain form: a scan typed while offline is lost on the
// browser's error page. With it, each scan is posted in the background and the answer replaces
// the page's content; when the phone is offline, or the post does not get through, the scan is
// kept on this phone (localStorage, per signed-in user and only until sent: a chip card's
// string holds personal data) with the moment it was made and an id of its own, and sent to
// the API when the network is back (on the "online" event, at page load, and every 30 s). The
// server records it at its own time and knows a scan sent twice by its id
// (`checkins.service.record_check_in`), so an answer lost on the way stores nothing twice.
// Texts come from the page (data-* attributes, in the reader's language).
(function () {
  "use strict";

  var RETRY_MS = 30000; // kept scans are sent again this often, and when the phone is online
  var RESEND_MS = 3000; // after a post that did not get through while the phone seemed online
  var TIMEOUT_MS = 10000;
  var flushing = false;

  function box() {
    return document.getElementById("offline-queue");
  }

  function storeKey() {
    var b = box();
    return b ? "phongdich.offline-scans." + b.dataset.user : null;
  }

  function load() {
    var key = storeKey();
    if (!key) return [];
    try {
      return JSON.parse(localStorage.getItem(key) || "[]");
    } catch (e) {
      return [];
    }
  }

  function save(queue) {
    var key = storeKey();
    if (!key) return;
    if (queue.length) localStorage.setItem(key, JSON.stringify(queue));
    else localStorage.removeItem(key);
  }

  function newId() {
    // crypto.randomUUID needs HTTPS; getRandomValues does not (a LAN server on plain HTTP).
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (x) {
      return (x + 256).toString(16).slice(1);
    }).join("");
  }

  function fill(template, n) {
    return template.replace("{n}", String(n));
  }

  function show(extra) {
    var b = box();
    if (!b) return;
    var waiting = load().length;
    var lines = [];
    if (!navigator.onLine) lines.push(b.dataset.offline);
    if (waiting) lines.push(fill(b.dataset.waiting, waiting));
    if (extra) lines.push(extra);
    b.textContent = lines.join(" ");
    b.hidden = lines.length === 0;
  }

  function showFailed(failed) {
    var list = document.getElementById("offline-failed");
    var b = box();
    if (!list || !b || !failed.length) return;
    list.textContent = "";
    var head = document.createElement("li");
    head.textContent = fill(b.dataset.failed, failed.length);
    list.appendChild(head);
    failed.forEach(function (f) {
      var item = document.createElement("li");
      item.textContent = new Date(f.at).toLocaleTimeString() + " · " + f.message;
      list.appendChild(item);
    });
    list.hidden = false;
  }

  function keep(scan) {
    var queue = load();
    queue.push(scan);
    save(queue);
    show();
  }

  function csrf() {
    var field = document.querySelector("#scan-form input[name=csrf_token]");
    return field ? field.value : "";
  }

  // Replace the page's content with a page the server answered (the same page, re-rendered).
  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
    if (!fresh) {
      window.location.reload();
      return;
    }
    document.querySelector("main").replaceWith(fresh);
    bind();
  }

  // The page again (its list and occupancy now count what was sent), then what happened.
  function refresh(after, failed) {
    function tell() { show(after); showFailed(failed); }
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { swap(html); tell(); })
      .catch(tell);
  }

  function flush() {
    if (flushing || !navigator.onLine || !load().length) return;
    flushing = true;
    var sent = 0;
    var failed = [];

    function finish() {
      flushing = false;
      var b = box();
      var note = sent && b ? fill(b.dataset.sent, sent) : "";
      if (sent || failed.length) {
        refresh(note, failed);
      } else {
        show();
      }
    }

    function next() {
      var queue = load();
      if (!queue.length) return finish();
      var scan = queue[0];
      fetch("/api/v1/checkins/scan", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(scan),
      }).then(function (r) {
        if (r.ok) {
          sent += 1;
          save(load().filter(function (s) { return s.client_scan_id !== scan.client_scan_id; }));
          return next();
        }
        if (r.status === 401 || r.status === 408 || r.status === 429 || r.status >= 500) {
          return finish(); // signed out, busy or failing: keep everything, try again later
        }
        // A refusal (a revoked code, a venue no longer open): say so and drop it.
        return r.json().catch(function () { return {}; }).then(function (body) {
          var message = (body.error && body.error.message) || String(r.status);
          failed.push({ at: scan.at, message: message });
          save(load().filter(function (s) { return s.client_scan_id !== scan.client_scan_id; }));
          return next();
        });
      }).catch(finish);
    }

    next();
  }

  function bind() {
    var form = document.getElementById("scan-form");
    if (!form) return;
    var input = form.elements.namedItem("code");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!code) return;
      var scan = {
        client_scan_id: newId(),
        code: code,
        at: new Date().toISOString(),
        venue_id: Number(form.elements.namedItem("venue_id").value),
      };
      if (!navigator.onLine) {
        keep(scan);
        input.value = "";
        input.focus();
        return;
      }
      var data = new FormData(form);
      data.append("client_scan_id", scan.client_scan_id);
      var controller = new AbortController();
      var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        signal: controller.signal,
      }).then(function (r) {
        return r.text();
      }).then(function (html) {
        clearTimeout(timer);
        swap(html); // and shows what still waits
        var fresh = document.querySelector("#scan-form input[name=code]");
        if (fresh) fresh.focus();
      }).catch(function () {
        clearTimeout(timer);
        keep(scan); // it may have arrived all the same: its id makes the resend harmless
        input.value = "";
        input.focus();
        setTimeout(flush, RESEND_MS);
      });
    });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    bind();
    flush();
    window.addEventListener("online", flush);
    window.addEventListener("offline", function () { show(); });
    setInterval(flush, RETRY_MS);
  });
})();
