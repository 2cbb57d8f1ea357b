// Starts Redoc with this page's CSP nonce, so the styles Redoc injects are allowed.
// The nonce is read from this script's own element (the property, which browsers keep
// after hiding the attribute).
"use strict";
(function () {
  const container = document.getElementById("redoc-container");
  const nonce = document.currentScript ? document.currentScript.nonce : undefined;
  Redoc.init(container.dataset.schemaUrl, { nonce: nonce }, container);
})();
