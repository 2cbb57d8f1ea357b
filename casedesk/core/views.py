"""Error pages in the product's look, with a message a customer can act on."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _error(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    return render(
        request, "core/error.html", {"title": title, "text": text}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    text = _("We could not read that request.")
    name = type(exception).__name__ if exception else ""
    if name == "TooManyFilesSent":
        text = _("Too many files were sent at once. Attach fewer files and try again.")
    elif name == "RequestDataTooBig":
        text = _("The request was too large. Attach smaller files and try again.")
    return _error(request, 400, _("Bad request"), text)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("Not allowed"), _("You do not have access to this page."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 404, _("Not found"),
        _("There is nothing here, or you do not have access to it. Check the Case ID or the "
          "link and try again."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request, 500, _("Something went wrong"),
        _("We could not finish that request and nothing was changed. Please try again; if it "
          "keeps failing, call us."),
    )
