"""What reaches the page: untrusted Markdown rendered to allowlisted HTML, and the headers every response carries."""

from assistant.rendering.markdown import IMAGE_PLACEHOLDER, is_local_source, render_markdown

__all__ = ["IMAGE_PLACEHOLDER", "is_local_source", "render_markdown"]
