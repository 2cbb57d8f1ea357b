"""The knowledge base's test people (a visitor, a contact, an agent, an admin) and a
helper that publishes articles through the real action."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casedesk.accounts.models import User
from casedesk.conftest import make_agent
from casedesk.kb.actions import Text, save_article
from casedesk.kb.models import Article, Category, Section


@pytest.fixture
def admin(db: Any) -> User:
    return make_agent(email="ada@casedesk.example", full_name="Ada Admin", is_staff=True)


@pytest.fixture
def section(db: Any) -> Section:
    category = Category.objects.create(title="Getting help", titles={"ar": "المساعدة"})
    return Section.objects.create(category=category, title="Accounts", titles={"ar": "الحسابات"})


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def publish(
    section: Section, title: str, body: str, *, by: User | None = None, ar: tuple[str, str]
    | None = None, internal: bool = False, status: str = Article.Status.PUBLISHED,
    slug: str = "",
) -> Article:
    texts = [Text("en", title, body)]
    if ar:
        texts.append(Text("ar", *ar))
    return save_article(by=by, section=section, texts=texts, status=status, internal=internal,
                        slug=slug)
