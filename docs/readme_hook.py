"""mkdocs hook: the site's home page is the README (one copy of the project's front page). Links into docs/
become links between pages."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def on_page_read_source(page, config):
    if page.file.src_uri != "index.md":
        return None
    text = README.read_text(encoding="utf-8")
    return re.sub(r"\]\(docs/", "](", text)
