"""The API's browsable docs (Swagger UI and Redoc from drf-spectacular's sidecar) under the
site's Content-Security-Policy: no inline script or style, and no font from a CDN.

drf-spectacular's own templates carry an inline <style> (and Redoc's a Google Fonts link),
so ours replace them. Swagger UI's set-up script is served as a file (the split view).
Redoc injects its styles as <style> elements at run time: that page alone allows styles
carrying the request's nonce, which redoc-init.js hands to Redoc, and style attributes.
"""

from __future__ import annotations

from csp.constants import NONCE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


# Swagger UI's stylesheet draws its icons as data: SVG images.
@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


# Redoc runs its search in a Web Worker made from a blob: URL, and sets a few style
# attributes on elements it draws (seen in Chromium): style-src-attr allows those on this
# page only, which shows nothing but our own schema. Scripts and <style> elements stay
# strict ('self', and the nonce for Redoc's injected stylesheets).
@method_decorator(
    csp_update({"style-src": [NONCE], "style-src-attr": ["'unsafe-inline'"],
                "worker-src": ["blob:"], "img-src": ["data:"]}),
    name="dispatch",
)
class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"
