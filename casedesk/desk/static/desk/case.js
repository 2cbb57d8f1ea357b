// The case page's small enhancements; the page works without them.
// 1. Presence: ping every 10 s with "viewing" or "typing" and show who else is here, in
//    the words the page gives (translated by the template).
// 2. Macros: "Use" fills the reply box in place instead of reloading the page.
(function () {
  "use strict";

  var PING_MS = 10000;
  var TYPING_MS = 8000;

  function csrfToken() {
    var input = document.querySelector("#reply-form input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setupPresence() {
    var box = document.getElementById("presence");
    if (!box || !window.fetch) { return; }
    var url = box.getAttribute("data-url");
    var lastKey = 0;
    var sentState = "";
    var body = document.querySelector("#reply-form textarea");

    function state() {
      return Date.now() - lastKey < TYPING_MS ? "typing" : "viewing";
    }

    // The sentences come translated from the page (data-viewing, data-typing: "{name} is
    // viewing" in the reader's language), so the script holds no text of its own.
    function sentence(other) {
      var template = box.getAttribute(other.state === "typing" ? "data-typing" : "data-viewing");
      return (template || "{name}").split("{name}").join(other.name);
    }

    function show(others) {
      box.textContent = "";
      others.forEach(function (other) {
        var span = document.createElement("span");
        span.className = "presence-" + other.state;
        span.textContent = sentence(other);
        box.appendChild(span);
      });
    }

    function send() {
      var data = new FormData();
      sentState = state();
      data.append("state", sentState);
      data.append("csrfmiddlewaretoken", csrfToken());
      fetch(url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer && answer.others) { show(answer.others); } })
        .catch(function () { /* offline for a moment: the next ping tries again */ });
    }

    if (body) {
      body.addEventListener("input", function () {
        lastKey = Date.now();
        // Tell the others at once when typing starts, not at the next tick.
        if (sentState !== "typing") { send(); }
      });
    }
    window.addEventListener("pagehide", function () {
      if (!navigator.sendBeacon) { return; }
      var data = new FormData();
      data.append("state", "left");
      data.append("csrfmiddlewaretoken", csrfToken());
      navigator.sendBeacon(url, data);
    });
    send();
    window.setInterval(send, PING_MS);
  }

  function setupMacros() {
    var picker = document.getElementById("macro-picker");
    var form = document.getElementById("reply-form");
    if (!picker || !form) { return; }
    picker.addEventListener("submit", function (event) {
      var option = picker.querySelector("select").selectedOptions[0];
      if (!option) { return; }
      event.preventDefault();
      var textarea = form.querySelector("textarea[name=body]");
      var text = option.getAttribute("data-body") || "";
      var start = textarea.selectionStart || 0;
      var end = textarea.selectionEnd || 0;
      var current = textarea.value;
      if (!current.trim()) {
        textarea.value = text;
      } else {
        textarea.value = current.slice(0, start) + text + current.slice(end);
      }
      var status = option.getAttribute("data-status");
      var priority = option.getAttribute("data-priority");
      if (status) { form.querySelector("select[name=new_status]").value = status; }
      if (priority) { form.querySelector("select[name=new_priority]").value = priority; }
      var publicKind = form.querySelector("input[name=kind][value=public]");
      if (publicKind) { publicKind.checked = true; }
      textarea.dispatchEvent(new Event("input"));
      textarea.focus();
    });
  }

  setupPresence();
  setupMacros();
})();
