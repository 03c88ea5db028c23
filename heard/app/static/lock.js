// heard's lock: tell the server someone is using the page (at most once a minute), and swap
// the page for the lock screen as soon as heard has locked itself, so nothing stays on screen.
(function () {
  "use strict";
  if (!window.fetch) { return; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  var last = Date.now();
  function alive() {
    if (Date.now() - last < 60000) { return; }
    last = Date.now();
    fetch("/unlock/alive", { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": token, "Accept": "application/json" } }).catch(function () {});
  }
  ["keydown", "pointerdown", "pointermove", "scroll", "touchstart"].forEach(function (name) {
    window.addEventListener(name, alive, { passive: true });
  });
  function check() {
    fetch("/unlock/state", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.locked) { window.location.replace("/unlock"); return; }
        var button = document.getElementById("lock-now");
        if (button && s.encrypted) { button.hidden = false; }
      })
      .catch(function () {});
  }
  check();
  window.setInterval(check, 15000);
  // coming back to the tab is when a page left open matters most
  window.addEventListener("focus", check);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { check(); }
  });
})();
