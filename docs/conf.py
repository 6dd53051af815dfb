"""Sphinx configuration of evloop's documentation (``make docs``).

The reference pages are autodoc over the in-tree package: the compiled
``evloop._evloop`` (built with Cython's ``embedsignature``, so autodoc gets
signatures) must be built first (``make build``).  Its types come from the
stub ``evloop/_evloop.pyi`` through ``_ext/evloop_docs.py``.  The Markdown
pages (design.md, benchmarks.md, ...) are read by MyST.

The build is offline: no intersphinx, no remote images, nothing fetched.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The in-tree package, not an installed one: the docs describe this checkout.
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(HERE, "_ext"))

import evloop  # noqa: E402 (the in-tree package, found through sys.path above)

project = "evloop"
author = "The evloop developers"
copyright = "the evloop developers"
release = evloop.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "evloop_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]

# MyST: ``{eval-rst}`` and directive fences are all the pages use; heading
# anchors let pages link to sections ("benchmarks.md#asyncio-echo-and-aiohttp").
myst_heading_anchors = 4

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
# Signatures come from the stub (evloop_docs), which has the types; the
# compiled docstrings' first line (embedsignature) is stripped by autodoc.
autodoc_docstring_signature = True
autodoc_typehints = "signature"
# asyncio.SelectorEventLoop's members are the stdlib's: the asyncio page
# documents what evloop defines or compiles, and says so.
autodoc_inherit_docstrings = False

html_theme = "alabaster"
html_theme_options = {"description": "an asyncio event loop on a libevent 2.1-style EventBase",
                      "fixed_sidebar": True}
html_static_path = []
html_show_sourcelink = False
pygments_style = "sphinx"
# ``EventBase.loop``, ``event_add``: the reference pages say which module.
add_module_names = False
