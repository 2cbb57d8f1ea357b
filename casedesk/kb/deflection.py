"""Deflection: a requester who opened a suggested article from the submit form and then
left without submitting.

The rule, computed when read (nothing to sweep, and a late submission undoes it):

- Each load of the submit form is a form session, named by a random token in the page.
  Opening a suggestion goes through a tracked redirect that records (session, article);
  opening the same article twice in one session counts once.
- The form's script reports "submitted" when the form is submitted (a submission the
  server then refuses still counts as one: the requester did not give up) and "left" when
  the page is closed or navigated away from (suggestions open in a new tab, so reading
  one does not leave the form).
- A session is *deflected* when it opened at least one suggestion, was never submitted,
  and either was left or WINDOW has passed since its last opening (a lost "left" report,
  or a tab simply abandoned). Until then it is *pending*.
- Per article: the sessions that opened it, and those of them that were deflected (each
  article opened in a deflected session gets the credit, so per-article deflections may
  add up to more than the total, which counts sessions).

Not counted: searches made without JavaScript (no live suggestions, no reports), and a
requester who leaves and opens a case later from another page load (that is a new form
session; the first stays deflected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from casedesk.kb.models import FormSession, SuggestionOpen

WINDOW = timedelta(minutes=30)


def deflected_q(now: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}submitted_at__isnull": True}) & (
        Q(**{f"{prefix}left_at__isnull": False})
        | Q(**{f"{prefix}last_open_at__lte": now - WINDOW})
    )


def pending_q(now: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}submitted_at__isnull": True, f"{prefix}left_at__isnull": True,
                f"{prefix}last_open_at__gt": now - WINDOW})


@dataclass(frozen=True)
class Totals:
    sessions: int
    opened: int
    deflected: int
    submitted: int
    pending: int


def totals(now: datetime | None = None) -> Totals:
    now = now or timezone.now()
    row = FormSession.objects.aggregate(
        sessions=Count("pk"),
        deflected=Count("pk", filter=deflected_q(now)),
        submitted=Count("pk", filter=Q(submitted_at__isnull=False)),
        pending=Count("pk", filter=pending_q(now)),
    )
    return Totals(opened=SuggestionOpen.objects.count(), **row)


def per_article(now: datetime | None = None) -> dict[int, tuple[int, int]]:
    """article id -> (opened, deflected)."""
    now = now or timezone.now()
    rows = SuggestionOpen.objects.values("article_id").annotate(
        opened=Count("pk"), deflected=Count("pk", filter=deflected_q(now, "session__")),
    )
    return {row["article_id"]: (row["opened"], row["deflected"]) for row in rows}
