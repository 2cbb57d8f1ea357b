from datetime import timedelta


def duration_text(span: timedelta) -> str:
    """A target as the support process states it: "2 hours", "1 hour", "90 minutes"."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
