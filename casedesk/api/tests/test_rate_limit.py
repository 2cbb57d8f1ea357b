"""Rate limits per token: RateLimit headers on every answer, 429 problem with Retry-After."""

from __future__ import annotations

from typing import Any

from casedesk.accounts.models import User
from casedesk.api.tests.conftest import Api, api_for, problem
from casedesk.tickets.models import Ticket


def test_headers_and_429(settings: Any, agent: User, agent_api: Api) -> None:
    settings.CASEDESK_API_RATE_LIMIT = 3
    remaining = []
    for _ in range(3):
        response = agent_api.get("/api/v1/cases")
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "3"
        assert response["RateLimit-Policy"] == "3;w=60"
        assert 1 <= int(response["RateLimit-Reset"]) <= 60
        remaining.append(int(response["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    body = problem(agent_api.post("/api/v1/cases", {"subject": "x"}), 429)
    assert "3 requests a minute" in body["detail"]
    response = agent_api.get("/api/v1/cases")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit-Remaining"] == "0"
    assert not Ticket.objects.exists()
    # Another token has its own allowance.
    assert api_for(agent).get("/api/v1/cases").status_code == 200
