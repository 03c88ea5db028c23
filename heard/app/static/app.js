/* heard app: drag-and-drop import with progress, and check-as-you-type. No framework, no
   other origin. Results come back as HTML that the server rendered with escaping on, or as
   JSON whose strings are set with textContent. Without JavaScript every form still works. */
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
        if (zone.requestSubmit) { zone.requestSubmit(); } else { zone.submit(); }
      }
    });
    importWithProgress(zone);
  }

  /* The import runs on the server's worker thread; this page asks how far it got twice a
     second and goes to the conversation when it is done. */
  function importWithProgress(form) {
    var button = document.getElementById("import-button");
    var box = document.getElementById("import-progress");
    var bar = document.getElementById("import-bar");
    var stage = document.getElementById("import-stage");
    var busy = false;

    function showError(text) {
      busy = false;
      button.disabled = false;
      button.textContent = "Import";
      box.hidden = true;
      var old = document.getElementById("import-error");
      if (old) { old.remove(); }
      var div = document.createElement("div");
      div.className = "error";
      div.id = "import-error";
      div.setAttribute("role", "alert");
      var p = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = "That didn't work. ";
      p.appendChild(strong);
      p.appendChild(document.createTextNode(text));
      div.appendChild(p);
      form.parentNode.insertBefore(div, form);
    }

    function show(data) {
      stage.textContent = data.step ? "Step " + data.step + " of " + data.steps + ": " + data.label + "…" : data.label;
      if (data.step) { bar.value = data.step - 0.5; } else { bar.removeAttribute("value"); }
    }

    function poll(url) {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.error) { showError(data.error); return; }
          show(data);
          if (data.finished && data.location) {
            bar.value = 4;
            stage.textContent = "Done. Opening the conversation…";
            window.location.assign(data.location);
          } else {
            setTimeout(function () { poll(url); }, 500);
          }
        })
        .catch(function () { setTimeout(function () { poll(url); }, 2000); });
    }

    form.addEventListener("submit", function (e) {
      if (!window.fetch || !window.FormData) { return; }  // the plain POST still works
      e.preventDefault();
      if (busy) { return; }
      busy = true;
      button.disabled = true;
      button.textContent = "Importing…";
      box.hidden = false;
      bar.removeAttribute("value");
      stage.textContent = "Sending the file…";
      var old = document.getElementById("import-error");
      if (old) { old.remove(); }
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-Heard-Async": "1", "X-CSRF-Token": csrf },
        body: new FormData(form)
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (data.error) { showError(data.error); return; }
        show(data);
        poll(data.status);
      }).catch(function () {
        showError("The file could not be sent. Please try again.");
      });
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
