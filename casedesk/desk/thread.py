"""The case page's thread, written in Python: one <li> per message.

The template wrote the same HTML (casedesk/desk/tests/test_thread.py keeps the two equal),
but at fifty messages its tags, variable lookups and translations were a seventh of the
case page's time. Here each word is translated once per page and each message is one
formatted string.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from casedesk.desk.templatetags.desk_tags import ago
from casedesk.tickets.models import Message


def _files(message: Message, ticket_pk: int, inline_types: Collection[str]) -> str:
    files = getattr(message, "files", None)
    if not files:
        return ""
    items = []
    for attachment in files:
        url = escape(reverse("desk:attachment", args=[ticket_pk, attachment.pk,
                                                     attachment.filename]))
        inline = attachment.content_type in inline_types
        image = f'<img src="{url}" alt="">' if inline else ""
        items.append(
            f'\n          <li><a href="{url}"{"" if inline else " download"}>\n'
            f"            {image}\n"
            f"            <bdi>{escape(attachment.filename)}</bdi> "
            f'<bdi class="muted">{conditional_escape(filesizeformat(attachment.size))}</bdi>'
            "</a></li>\n          "
        )
    return f'\n        <ul class="files">\n          {"".join(items)}\n        </ul>\n        '


def thread_html(thread: Sequence[Message], ticket_pk: int, fresh: Collection[int],
                inline_types: Collection[str]) -> SafeString:
    """The <li> of each message, as desk/case.html wrote them."""
    words: dict[str, str] = {
        "agent": escape(gettext("Agent")), "customer": escape(gettext("Customer")),
        "internal": escape(gettext("Internal note — not visible to the customer")),
        "fresh": escape(gettext("New since you started writing")),
        "whole": escape(gettext("Show the whole email")),
    }
    by_channel: dict[str, str] = {}
    parts = []
    for m in thread:
        public = m.is_public
        from_agent = m.from_agent
        kind = "internal" if not public else "from-agent" if from_agent else "from-customer"
        is_fresh = m.pk in fresh
        channel = ""
        if m.channel not in ("portal", "agent"):
            if m.channel not in by_channel:
                # blocktranslate: the translation as it is, the value escaped.
                by_channel[m.channel] = " · " + gettext("by %(channel)s") % {
                    "channel": escape(str(m.get_channel_display()).lower())}
            channel = by_channel[m.channel]
        whole = (f'<details class="whole-email small"><summary>{words["whole"]}</summary>'
                 f'<div class="msg-body" dir="auto">{escape(m.full_body)}</div></details>'
                 if m.full_body else "")
        parts.append(
            f'\n      <li class="msg {kind}{" fresh" if is_fresh else ""}" id="m{m.pk}">\n'
            f"        {_fresh_label(words) if is_fresh else ''}\n"
            f"        {_internal_label(words) if not public else ''}\n"
            '        <div class="msg-head">\n'
            f"          <span><strong>{escape(m.author.get_full_name())}</strong> "
            f'<span class="who">{words["agent"] if from_agent else words["customer"]}</span>'
            f"{channel}</span>\n"
            f"          <span>{ago(m.created_at)}</span>\n"
            "        </div>\n"
            f'        <div class="msg-body" dir="auto">{escape(m.body)}</div>\n'
            f"        {whole}\n"
            f"        {_files(m, ticket_pk, inline_types)}\n"
            "      </li>\n    "
        )
    # Safe: every value is escaped above; the translations are the page's own text.
    return mark_safe("".join(parts))  # noqa: S308


def _fresh_label(words: dict[str, Any]) -> str:
    return f'<p class="fresh-label">{words["fresh"]}</p>'


def _internal_label(words: dict[str, Any]) -> str:
    return f'<p class="internal-label">{words["internal"]}</p>'
