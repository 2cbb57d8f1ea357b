from datetime import timedelta

from django.utils.functional import lazy
from django.utils.translation import ngettext


def duration_text(span: timedelta) -> str:
    """A target as the support process states it: "2 hours", "1 hour", "90 minutes", in
    the active language (wrap it in django.utils.functional.lazy to render it later)."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# For mail: rendered when the template is, in the recipient's language (mail.actions).
duration_text_lazy = lazy(duration_text, str)
