"""The kinds of things the search index holds. A kind's code is part of each document's
key (Document.id = ref_id * KINDS + code), so a code is never reused or changed."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = 8


@dataclass(frozen=True)
class Kind:
    name: str
    code: int

    def key(self, ref_id: int) -> int:
        return ref_id * KINDS + self.code

    def key_range(self, first: int, last: int) -> tuple[int, int]:
        """Document keys of this kind for things first..last (inclusive)."""
        return self.key(first), self.key(last)


CASE = Kind("case", 1)
# The knowledge base's articles will be Kind("article", 2).
