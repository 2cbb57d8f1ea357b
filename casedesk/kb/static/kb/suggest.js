// Suggestions on the portal's submit form (casedesk/kb/templates/kb/_suggestions.html):
// while the subject is typed, matching articles appear under it without a page reload.
// Opening one is counted by the server's tracked redirect; this script reports whether the
// form was then submitted or left (casedesk/kb/deflection.py), as beacons.
(function () {
  "use strict";
  var box = document.getElementById("kb-suggest");
  var subject = document.getElementById("id_subject");
  var list = document.getElementById("kb-suggestions");
  if (!box || !subject || !list || !window.fetch) { return; }
  var form = subject.form;
  var token = box.dataset.token;
  var field = document.getElementById("field-subject") || subject;
  // Under the subject, where the requester is looking while typing.
  field.insertAdjacentElement("afterend", list);
  var search = document.getElementById("kb-suggest-q");
  var timer = null;
  var asked = "";
  var opened = false;
  var done = false;

  function language() {
    return (document.documentElement.lang || "en").split("-")[0];
  }

  function show() {
    var text = subject.value.trim();
    if (search && !search.dataset.touched) { search.value = text; }
    if (text === asked) { return; }
    asked = text;
    if (text.length < 3) { list.hidden = true; list.innerHTML = ""; return; }
    var url = box.dataset.suggestUrl + "?" + new URLSearchParams({q: text, fs: token, lang: language()});
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (text !== asked) { return; }  // A later keystroke asked again meanwhile.
        list.innerHTML = html;
        list.hidden = html.trim() === "";
      })
      .catch(function () { /* Suggestions are a help, never in the way. */ });
  }

  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(show, 250);
  });
  if (search) { search.addEventListener("input", function () { search.dataset.touched = "1"; }); }
  list.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("a.kb-suggestion")) { opened = true; }
  });

  function report(event) {
    if (!opened || done) { return; }
    var data = new FormData();
    data.append("token", token);
    data.append("event", event);
    var csrf = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (csrf) { data.append("csrfmiddlewaretoken", csrf.value); }
    if (event === "submitted") { done = true; }
    navigator.sendBeacon(box.dataset.eventUrl, data);
  }

  if (form) { form.addEventListener("submit", function () { report("submitted"); }); }
  window.addEventListener("pagehide", function () { report("left"); });
  if (subject.value.trim()) { show(); }
})();
