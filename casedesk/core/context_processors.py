from typing import Any

from django.http import HttpRequest

from casedesk.core.models import SiteConfiguration


def branding(request: HttpRequest) -> dict[str, Any]:
    return {"site": SiteConfiguration.current()}
