"""The new text of a reply, without the quoted history and the signature.

Our own rules, not a library: of the maintained Python libraries evaluated on
the talon corpus (bench/reply_hit_rate.py prints the comparison when they are
installed), none handles Arabic "On ... wrote" lines, mail-parser-reply strips
"Thanks," closings (human text) as a signature, and quotequail cuts the text
but leaves the attribution line. The rules here are line based:

1. A hard separator cuts everything after it: "-----Original Message-----",
   an Outlook "From:/Sent:/To:/Subject:" header block, an "On ... wrote:" line
   (English, Arabic and the other languages seen in the corpora) that is NOT
   followed by a ">" quoted block.
2. ">" quoted blocks at the start or end of the message are removed with their
   attribution line; quoted blocks in the middle (inline answers) are kept, so
   the answers keep their questions.
3. A forwarded message ("---------- Forwarded message ---------", "Begin
   forwarded message:") is new content from the customer and kept whole.
4. A signature after "-- " (or "--") or a "Sent from my ..." style line is cut.
5. If nothing is left, the whole text is returned: nothing a customer wrote is
   lost, and the original stays one click away anyway.
"""

from __future__ import annotations

import re

from casedesk.mail.htmltext import html_to_text

_MAX_TEXT = 500_000

_WROTE = re.compile(
    r"(?:"
    r"\bwrote\s*:?|\bwrites\s*:|\bschrieb\b.*:|\ba [ée]crit\s*:|\bescribi[óo]\s*:|"
    r"\bscrisse\s*:|\bskrev\b.*:|\bschreef\b.*:|\bnapisa[łl]\b.*:|\bkirjoitti\b.*:|"
    r"\bнаписал[аи]?\b.*:|\bescreveu\s*:|كتب\s*:|كتبت\s*:|"
    r"\b\u0441\u043e\u043e\u0431\u0449\u0438\u043b\b.*:"
    r")\s*$",
    re.IGNORECASE,
)
# The end every match of _WROTE has, once trailing whitespace is stripped ("wrote" or a
# colon, then \s*$): tested on the last five characters, it rules out nearly every line
# before _WROTE's alternatives are tried at each position of it.
_WROTE_TAIL = re.compile(r"(?:wrote|:)\Z", re.IGNORECASE)
# A line that starts an attribution: "On ...", Arabic "في ...", other languages' "On".
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:on|am|le|el|il|op|den|dnia|في|بتاريخ|em)\b|^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:original message|original|ursprüngliche nachricht|"
    r"message d'origine|mensaje original|الرسالة الأصلية|исходное сообщение)\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(?:[-_=*]{2,}\s*(?:forwarded message|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|الرسالة المعاد توجيهها|رسالة معاد توجيهها)"
    r"\s*[-_=*]{0,}\s*$|begin forwarded message\s*:|"
    r"[-_=*]{2,}\s*forwarded by .*)",
    re.IGNORECASE,
)
_HEADER_FIELD = re.compile(
    r"^\s*[*]?\s*(from|sent|to|cc|subject|date|من|أرسل|إلى|الموضوع|التاريخ|"
    r"von|gesendet|an|betreff|de|envoyé|à|objet|enviado|para|asunto|"
    r"от|отправлено|кому|тема|дата|копия)\s*[*]?\s*:",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*[_\u2015-]{3,}\s*$")
_SIG_DELIM = re.compile(r"^--\s?$|^\u2014\s*$")
_MOBILE_SIG = re.compile(
    r"^\s*(?:sent (?:from|with|via) |get outlook for |envoyé de mon |von meinem .* gesendet|"
    r"enviado desde mi |أرسلت من |مرسل من |تم الإرسال من )",
    re.IGNORECASE,
)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines (1-3) starting at i form an "On ... wrote:" line, or 0."""
    for span in (1, 2, 3):
        if i + span > len(lines):
            break
        chunk = " ".join(line.strip().lstrip(">").strip() for line in lines[i : i + span])
        if span > 1 and any(_is_blank(x) for x in lines[i : i + span]):
            break
        if len(chunk) > 400:
            break
        if not (_WROTE_TAIL.search(chunk.rstrip()[-5:]) and _WROTE.search(chunk)):
            continue
        starts = _ATTRIBUTION_START.search(lines[i].lstrip(">").strip())
        # "what my colleague wrote:" in the customer's own words is not an
        # attribution: one needs "On ..." or a date or an address in it.
        # Over several lines, the first must be the attribution's start.
        if starts or (span == 1 and re.search(r"@|\d", chunk) and chunk.rstrip().endswith(":")):
            return span
    return 0


def _clean(line: str) -> str:
    return line.replace("\u200e", "").replace("\u200f", "").lstrip("> ")


def _header_block_at(lines: list[str], i: int, *, after_separator: bool = False) -> bool:
    """An Outlook-style "From: ... / Sent: ... / To: ..." block starts at line i.

    Without a separator line above, it must start with From (in some language)
    and hold three fields; after one, any two fields will do.
    """
    m = _HEADER_FIELD.match(_clean(lines[i]))
    if not m:
        return False
    if not after_separator and m.group(1).lower() not in ("from", "من", "von", "de", "от"):
        return False
    fields = 1
    for line in lines[i + 1 : i + 6]:
        if _is_blank(line):
            continue
        if _HEADER_FIELD.match(_clean(line)):
            fields += 1
    return fields >= (2 if after_separator else 3)


def _next_nonblank(lines: list[str], i: int) -> int:
    while i < len(lines) and _is_blank(lines[i]):
        i += 1
    return i


def _strip_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if i == 0:
            continue
        if _SIG_DELIM.match(line) or _MOBILE_SIG.match(line):
            head = lines[:i]
            if any(not _is_blank(x) for x in head):
                return head
    return lines


def _has_text(lines: list[str]) -> bool:
    """Any unquoted text before a signature starts?"""
    for line in lines:
        if _SIG_DELIM.match(line) or _MOBILE_SIG.match(line):
            return False
        if not _is_blank(line) and not _is_quoted(line):
            return True
    return False


def _cut(lines: list[str]) -> list[str]:
    """Apply rules 1-3 to the unquoted-then-quoted structure of `lines`."""
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if _FORWARD.match(line):
            return lines  # a customer's forward is new content
        if _ORIGINAL.match(_clean(line)) or _header_block_at(lines, i):
            return lines[:i]
        if _UNDERSCORES.match(_clean(line)):
            j = _next_nonblank(lines, i + 1)
            if j < n and _header_block_at(lines, j, after_separator=True):
                return lines[:i]
        span = _attribution_at(lines, i) if not _is_quoted(line) else 0
        if not span and not _is_quoted(line) and line.rstrip().endswith(":"):
            # An attribution in an unknown wording: a line ending in ":" that
            # carries an address or a date, directly followed by a quote.
            j = _next_nonblank(lines, i + 1)
            if j < n and _is_quoted(lines[j]) and re.search(r"@|\d{1,2}:\d{2}", line):
                span = 1
            elif i + 1 < n and re.search(r"@|\d{1,2}:\d{2}", lines[i] + lines[i + 1]):
                # wrapped over two lines (android: "... <\nbob@x> написал:")
                k = _next_nonblank(lines, i + 1)
                if (
                    k < n
                    and _is_quoted(lines[k])
                    and i > 0
                    and re.search(r"@|\d{1,2}:\d{2}", lines[i - 1])
                ):
                    i -= 1
                    span = 2
        if span:
            j = _next_nonblank(lines, i + span)
            if j < n and _is_quoted(lines[j]):
                # Drop the attribution and its quoted block; keep going (inline answers).
                k = j
                while k < n and (_is_quoted(lines[k]) or _is_blank(lines[k])):
                    k += 1
                rest = lines[k:]
                if any(not _is_blank(x) for x in lines[:i]) or not rest:
                    # Top-posted reply (or nothing after): the reply is above.
                    if not _has_text(rest):
                        return lines[:i]
                    # Text after the quote too: inline answers; keep quote for context.
                    i = k
                    continue
                # Bottom-posted (Thunderbird): the reply is below the quote.
                return _cut(rest)
            return lines[:i]
        i += 1
    return lines


def _drop_edge_quotes(lines: list[str]) -> list[str]:
    """Remove ">" blocks at the very start and the very end (rule 2)."""
    start = 0
    while start < len(lines) and (_is_quoted(lines[start]) or _is_blank(lines[start])):
        start += 1
    end = len(lines)
    while end > start and (_is_quoted(lines[end - 1]) or _is_blank(lines[end - 1])):
        end -= 1
    return lines[start:end]


def extract_reply(text: str, html: str = "") -> str:
    """The reply's new text; `html` is used when `text` is empty (HTML-only mail)."""
    text = (text or "")[:_MAX_TEXT]
    if not text.strip() and html:
        text = html_to_text(html, mark_quotes=True)[:_MAX_TEXT]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kept = _cut(lines)
    if not any(_FORWARD.match(x) for x in kept):
        kept = _drop_edge_quotes(kept)
    kept = _strip_signature(kept)
    result = "\n".join(x.rstrip() for x in kept).strip()
    result = re.sub(r"\n{3,}", "\n\n", result)
    return result if result else text.strip()
