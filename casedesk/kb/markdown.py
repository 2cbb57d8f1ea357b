"""Article bodies: Markdown rendered by markdown-it-py (CommonMark plus tables and
strikethrough), then sanitized by nh3 (Ammonia) against an allow-list.

Raw HTML in the Markdown is let through the parser and then cleaned, so an author's
harmless <kbd> or <br> survive while <script>, <style> (with their content), <iframe>,
event handlers, inline styles other than text alignment and javascript:/data: links are
removed. The source is stored as written; only the rendered HTML is cleaned.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del",
    "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead",
    "tbody", "tr", "th", "td", "kbd", "sup", "sub",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render(source: str) -> str:
    """The sanitized HTML of a Markdown body."""
    return nh3.clean(
        _parser.render(source),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
    )


def plain_text(rendered: str) -> str:
    """The words of rendered HTML, for the search index and snippets."""
    text = nh3.clean(rendered.replace("<", " <"), tags=set(), clean_content_tags=set())
    return " ".join(html.unescape(text).split())
