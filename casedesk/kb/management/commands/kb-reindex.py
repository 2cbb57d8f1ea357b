"""`casedesk kb-reindex`: index every knowledge base article again (after a restore or a
load that bypassed casedesk.kb.actions). `casedesk search-rebuild` does cases only."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from casedesk.kb.index import rebuild_articles


class Command(BaseCommand):
    help = "Rebuild the search index of every knowledge base article."

    def handle(self, *args: Any, verbosity: int, **options: Any) -> None:
        count = rebuild_articles()
        if verbosity >= 1:
            self.stdout.write(f"Indexed {count:,} article translations.")
