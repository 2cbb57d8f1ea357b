"""portal views: being written (see the URL names in urls.py)."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("Not built yet", status=501)


def __getattr__(name: str) -> object:
    return _todo
