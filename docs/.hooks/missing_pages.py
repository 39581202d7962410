"""MkDocs hook: a page listed in the nav but not written yet does not break ``--strict``.

Engineers add their page to the nav first and write it afterwards. Until the file exists,
``validation.nav.not_found: info`` keeps the nav entry from failing the build, and this hook
turns links to that page (``[the sink](sink.md)``) into their plain text, with one INFO line per
missing page. Links to anything that is neither written nor in the nav still fail ``--strict``.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("mkdocs.hooks.missing_pages")

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)#\s]+\.md)(?:#[^)\s]*)?\)")
_missing: set[str] = set()


def _nav_pages(items: Any) -> Iterator[str]:
    if isinstance(items, str):
        if items.endswith(".md"):
            yield items
    elif isinstance(items, list):
        for item in items:
            yield from _nav_pages(item)
    elif isinstance(items, dict):
        for value in items.values():
            yield from _nav_pages(value)


def on_files(files: Any, config: Any) -> Any:
    """Record which nav pages have no file yet."""
    written = {file.src_uri for file in files.documentation_pages()}
    _missing.clear()
    _missing.update(set(_nav_pages(config["nav"])) - written)
    for page in sorted(_missing):
        log.info("nav page %s is not written yet; links to it are rendered as plain text", page)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace links to missing nav pages with their text."""
    if not _missing:
        return markdown
    base = posixpath.dirname(page.file.src_uri)

    def unlink(match: re.Match[str]) -> str:
        target = posixpath.normpath(posixpath.join(base, match["target"]))
        return match["text"] if target in _missing else match[0]

    return _LINK.sub(unlink, markdown)
