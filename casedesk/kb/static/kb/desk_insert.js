// "Insert a help article link" on the desk's case page (kb/_desk_insert.html): finds
// published public articles and puts the chosen one's title and address into the reply.
(function () {
  "use strict";
  var box = document.getElementById("kb-insert");
  var input = document.getElementById("kb-insert-q");
  var results = document.getElementById("kb-insert-results");
  var reply = document.querySelector("#reply-form textarea[name=body]");
  if (!box || !input || !results || !reply || !window.fetch) { return; }
  var timer = null;
  var asked = "";

  function insert(text) {
    var start = reply.selectionStart || 0;
    var end = reply.selectionEnd || 0;
    var before = reply.value.slice(0, start);
    var gap = before && !/\s$/.test(before) ? "\n" : "";
    reply.value = before + gap + text + reply.value.slice(end);
    var at = (before + gap + text).length;
    reply.focus();
    reply.setSelectionRange(at, at);
    reply.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function render(found) {
    results.textContent = "";
    if (!found.length) {
      var none = document.createElement("li");
      none.textContent = box.dataset.noneLabel;
      results.appendChild(none);
      return;
    }
    found.forEach(function (item) {
      var li = document.createElement("li");
      var title = document.createElement("span");
      title.textContent = item.title;
      title.lang = item.language;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small kb-insert-button";
      button.textContent = box.dataset.insertLabel;
      button.addEventListener("click", function () { insert(item.title + ": " + item.url + "\n"); });
      li.appendChild(title);
      li.appendChild(button);
      results.appendChild(li);
    });
  }

  function lookup() {
    var text = input.value.trim();
    if (text === asked) { return; }
    asked = text;
    if (text.length < 2) { results.textContent = ""; return; }
    fetch(box.dataset.lookupUrl + "?" + new URLSearchParams({q: text}), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {results: []}; })
      .then(function (data) { if (text === asked) { render(data.results || []); } })
      .catch(function () {});
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 250); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); lookup(); }
  });
})();
