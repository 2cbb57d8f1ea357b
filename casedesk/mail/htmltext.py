"""HTML mail to plain text, with quoted history marked by "> " so reply extraction can cut it.

Stdlib `html.parser` only: it never raises on broken markup, which mail is full of.
"""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

import nh3

# Tags whose content is never text a reader sees.
_SKIP = frozenset({"style", "script", "head", "title", "xml", "template", "noscript"})
_BLOCK = frozenset(
    {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "dl",
        "dt",
        "dd",
        "address",
        "center",
        "form",
        "fieldset",
        "blockquote",
    }
)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})
# Containers mail clients put the quoted history in (Gmail, Yahoo, Outlook web,
# Apple Mail, Thunderbird, Zimbra, mail.ru/yandex via blockquote).
_QUOTE_CLASSES = re.compile(
    r"gmail_quote|gmail_extra|yahoo_quoted|moz-cite-prefix|OutlookMessageHeader|"
    r"divRplyFwdMsg|appendonsend|zmail_extra|protonmail_quote|ms-outlook-mobile-reference|"
    r"AppleOriginalContents",
    re.IGNORECASE,
)
_QUOTE_IDS = re.compile(
    r"divRplyFwdMsg|OLK_SRC_BODY_SECTION|appendonsend|mail-editor-reference-message|"
    r"zwchr|isForwardContent|yiv\d*yahoo_quoted",
    re.IGNORECASE,
)
_MAX_DEPTH = 200
_MAX_HTML = 2_000_000
log = logging.getLogger(__name__)


class _Converter(HTMLParser):
    def __init__(self, mark_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.mark_quotes = mark_quotes
        self.out: list[tuple[int, str]] = []  # (quote depth, text) chunks
        self.stack: list[tuple[str, bool]] = []  # (tag, opened a quote)
        self.skip = 0
        self.quote = 0
        self.line: list[str] = []
        self.pre = 0

    def _flush(self) -> None:
        text = "".join(self.line)
        self.line = []
        if not self.pre:
            text = re.sub(r"[ \t\r\n\f\u00a0]+", " ", text).strip()
        self.out.append((self.quote, text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _SKIP:
            self.skip += 1
        if tag in _BLOCK:
            self._flush()
        if tag == "pre":
            self.pre += 1
        if tag in _VOID:
            if tag == "hr" and self.mark_quotes:
                self.line.append("\u2015" * 3)  # a separator reply.py may treat as a cut
                self._flush()
            return
        opened = False
        if self.mark_quotes:
            values = dict(attrs)
            cls = values.get("class") or ""
            ident = values.get("id") or ""
            style = (values.get("style") or "").replace(" ", "").lower()
            if (
                tag == "blockquote"
                or _QUOTE_CLASSES.search(cls)
                or _QUOTE_IDS.search(ident)
                # Outlook desktop separates the history with a top-bordered div.
                or (tag == "div" and "border-top:solid" in style and "padding:3" in style)
            ):
                self._flush()
                opened = True
                self.quote += 1
        if len(self.stack) < _MAX_DEPTH:
            self.stack.append((tag, opened))

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _SKIP and self.skip:
            self.skip -= 1
        if tag in _BLOCK:
            self._flush()
        if tag == "pre" and self.pre:
            self.pre -= 1
        # Close up to the matching open tag; unclosed children close with it.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _, opened in self.stack[i:]:
                    if opened:
                        self._flush()
                        self.quote -= 1
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            parts = data.split("\n")
            for part in parts[:-1]:
                self.line.append(part)
                self._flush()
            self.line.append(parts[-1])
        else:
            self.line.append(data)


def html_to_text(html: str, *, mark_quotes: bool = False) -> str:
    """Readable text of an HTML body; quoted history prefixed "> " when `mark_quotes`."""
    conv = _Converter(mark_quotes)
    try:
        conv.feed(html[:_MAX_HTML])
        conv.close()
    except Exception:  # HTMLParser is lenient, but never let markup crash intake
        log.debug("HTML conversion stopped early", exc_info=True)
    conv._flush()
    lines: list[str] = []
    for depth, text in conv.out:
        if not text and lines and lines[-1].strip(">").strip() == "":
            continue  # collapse runs of empty lines
        lines.append(("> " * depth if depth else "") + text)
    return "\n".join(lines).strip()


def sanitize_html(html: str) -> str:
    """HTML safe to show in the desk: no scripts, handlers, forms or remote tricks."""
    try:
        # cid: keeps inline images (served from the stored attachments) displayable.
        return nh3.clean(
            html[:_MAX_HTML],
            url_schemes=nh3.ALLOWED_URL_SCHEMES | {"cid"},
            link_rel="noopener noreferrer nofollow",
        )
    except Exception:  # nh3 only raises on bad arguments; be safe anyway
        return ""
