"""The search index: one Document per searchable thing (a case today, an article later).

A Document holds the *normalized* words of its thing (casedesk.search.normalize), in four
fields that rank differently: the title, the people (names and addresses), the public body
and the internal notes. The text the desk shows comes from the things themselves; these
columns exist only to be indexed.

The engine-specific index lives beside the table and is kept in step by the database
itself, in the same statement as every write (migration 0001):

- SQLite: an FTS5 table `search_fts` with this table as its external content, updated by
  triggers on insert, update and delete.
- PostgreSQL: a generated `vector` tsvector column (title weight A, people B, body C,
  notes D) with a GIN index.

So the Python code writes Documents through the ORM in the same way on both databases.
"""

from __future__ import annotations

from django.db import models


class Document(models.Model):
    # The primary key is derived from the thing's own id, ref_id * KINDS + kind (see
    # casedesk.search.kinds): rebuilding gives every document its old key back, and the
    # order of keys within a kind is the order of the things' ids, which is newest-first
    # order for cases (Case IDs rise with time). Both engines read their index in key
    # order cheaply, which the recency tie-break and the result window rely on.
    id = models.BigIntegerField(primary_key=True)
    kind = models.PositiveSmallIntegerField()
    ref_id = models.BigIntegerField()
    title = models.TextField(blank=True)
    people = models.TextField(blank=True)
    body = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        db_table = "search_document"

    def __str__(self) -> str:
        return f"search document {self.kind}:{self.ref_id}"
