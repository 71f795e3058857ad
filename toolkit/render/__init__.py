"""Renderers: write a `TrialRecord` back into a source layout.

`toolkit.render.page.render_page(record)` writes the plain-text trial page
that `toolkit.readers.page` and `toolkit.parse.page` read.
"""

from toolkit.render.page import render_page

__all__ = ["render_page"]
