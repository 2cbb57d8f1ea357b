// The queue's "select all on this page" box: without JavaScript the page offers a link
// that reloads the page with every box ticked; with it, the header box ticks them here.
(function () {
  "use strict";
  var all = document.querySelector("table.queue .pick-all");
  if (!all) { return; }
  var boxes = Array.prototype.slice.call(
    document.querySelectorAll('table.queue input[name="case"]'));
  all.hidden = false;
  function sync() {
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = ticked === boxes.length && ticked > 0;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
    sync();
  });
  boxes.forEach(function (b) { b.addEventListener("change", sync); });
  sync();
})();
