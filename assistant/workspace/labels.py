"""Plain words for the names the pipeline uses internally (topic slugs), so no panel shows a raw label."""

from __future__ import annotations

# Slugs whose plain spelling is not just the slug with spaces.
_TOPIC_WORDS: dict[str, str] = {
    "your-handbook": "Your documents",
    "boundaries-and-escalation": "Boundaries and escalation",
    "self-reflection": "Self-reflection",
}


def topic_label(slug: str | None) -> str:
    """'difficult-conversations' → 'Difficult conversations'; an empty slug stays empty."""
    if not slug:
        return ""
    if slug in _TOPIC_WORDS:
        return _TOPIC_WORDS[slug]
    words = slug.replace("_", "-").split("-")
    return " ".join(words).capitalize()
