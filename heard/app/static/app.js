/* heard app: drag-and-drop import and check-as-you-type. No framework, no other origin.
   Results come back as HTML that the server rendered with escaping on. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  var zone = document.getElementById("import-form");
  if (zone) {
    var input = document.getElementById("file");
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        zone.submit();
      }
    });
  }

  var form = document.getElementById("check-form");
  if (!form) { return; }
  var text = document.getElementById("text");
  var out = document.getElementById("result");
  var timer = null, seq = 0;

  function context() {
    var sel = document.getElementById("reply_to");
    if (!sel || !sel.value) { return []; }
    var items = [];
    for (var i = 1; i < sel.options.length; i++) {
      items.push(sel.options[i].getAttribute("data-text") || sel.options[i].textContent);
      if (sel.options[i].value === sel.value) { break; }
    }
    return items.slice(-6);
  }

  function mode() {
    var r = form.querySelector('input[name="mode"]:checked');
    return r ? r.value : "send";
  }

  function run() {
    var mine = ++seq;
    fetch("/api/check", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text.value, context: context(), mode: mode(), html: true })
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== seq) { return; }
      if (data.html !== undefined) { out.innerHTML = data.html; }
      else if (data.error) { out.textContent = data.error; }
    }).catch(function () { /* the form still works without this */ });
  }

  function later() { clearTimeout(timer); timer = setTimeout(run, 300); }
  text.addEventListener("input", later);
  form.addEventListener("change", later);
})();
