"""Article bodies: Markdown rendered by markdown-it-py (CommonMark plus tables and
strikethrough), then sanitized by nh3 (Ammonia) against an allow-list.

Raw HTML in the Markdown is let through the parser and then cleaned, so an author's
harmless <kbd> or <br> survive while <script>, <style> (with their content), <iframe>,
event handlers, style attributes and javascript:/data: links are removed. A table
column's alignment becomes a class (kb-align-left/center/right), never a style attribute:
pages forbid inline styles (Content-Security-Policy). The source is stored as written; only
the rendered HTML is cleaned.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del",
    "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead",
    "tbody", "tr", "th", "td", "kbd", "sup", "sub",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALIGN_CLASSES = {f"kb-align-{side}" for side in ("left", "center", "right")}
CLASSES = {"th": ALIGN_CLASSES, "td": ALIGN_CLASSES}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render(source: str) -> str:
    """The sanitized HTML of a Markdown body."""
    tokens = _parser.parse(source)
    _align_with_classes(tokens)
    return nh3.clean(
        _parser.renderer.render(tokens, _parser.options, {}),
        tags=TAGS,
        attributes=ATTRIBUTES,
        allowed_classes=CLASSES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
    )


def _align_with_classes(tokens: list[Token]) -> None:
    """markdown-it aligns table cells with style="text-align:X"; we use class kb-align-X."""
    for token in tokens:
        if token.type not in ("th_open", "td_open"):
            continue
        style = str(token.attrGet("style") or "")
        if style.startswith("text-align:"):
            token.attrs.pop("style", None)
            token.attrSet("class", f"kb-align-{style.removeprefix('text-align:')}")


def plain_text(rendered: str) -> str:
    """The words of rendered HTML, for the search index and snippets."""
    text = nh3.clean(rendered.replace("<", " <"), tags=set(), clean_content_tags=set())
    return " ".join(html.unescape(text).split())
