"""Sphinx configuration of ferrum's documentation site (``make docs``).

Sphinx with MyST for the Markdown pages, autodoc + napoleon for the API pages, the doctest builder
for the getting-started page. Everything builds offline from PyPI wheels (extra ``docs``, pinned in
constraints.txt) with the default alabaster theme and Sphinx's own client-side search.

Pages generated at build time land in ``docs/_generated/`` (git-ignored):
- ``compat.md``: the compatibility page (a whole page, title included) from
  ``ferrum.compat.coverage_markdown()`` where that module exists, else ``docs/compat.md`` where a
  generator wrote one, else a short note;
- ``profiler-api.md``: the profiler's API page where ``ferrum.profiler`` exists.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import ferrum  # noqa: E402

project = "ferrum"
author = "the ferrum authors"
copyright = "the ferrum authors"  # noqa: A001
version = release = ferrum.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "compat.md", "Thumbs.db", ".DS_Store"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = f"ferrum {release}"
html_static_path: list[str] = []
html_theme_options = {"page_width": "1180px", "sidebar_width": "260px"}

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# the doctest builder runs the getting-started page's blocks in a fresh namespace per group
doctest_global_setup = """
import importlib.util

import ferrum

ferrum.manual_seed(0)
HAS_PROFILER = importlib.util.find_spec("ferrum.profiler") is not None
"""
# only the explicit doctest/testcode blocks of the pages run, not every >>> line of a docstring
doctest_test_doctest_blocks = ""


def _write_if_changed(path: Path, text: str) -> None:
    # rewriting an unchanged file would make Sphinx re-read it on every incremental build
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _generate() -> None:
    gen = DOCS / "_generated"
    gen.mkdir(exist_ok=True)
    try:
        compat = importlib.import_module("ferrum.compat")
        text = compat.coverage_markdown()
    except (ImportError, AttributeError):
        written = DOCS / "compat.md"
        text = written.read_text() if written.exists() else (
            "# Compatibility with PyTorch\n\n"
            "`ferrum compat run script.py args...` runs an unmodified PyTorch program with ferrum in "
            "torch's place, and this page lists which of torch's names ferrum covers, generated from "
            "`ferrum.compat.coverage_markdown()`. This build of ferrum does not have `ferrum.compat` "
            "yet, so the table is not here.\n")
    _write_if_changed(gen / "compat.md", text)
    try:
        importlib.import_module("ferrum.profiler")
        prof = ("## API\n\n```{eval-rst}\n.. automodule:: ferrum.profiler\n```\n")
    except ImportError:
        prof = ""
    _write_if_changed(gen / "profiler-api.md", prof)


_generate()


# ferrum's docstrings are plain text with ``literals`` and :class: roles (PEP 257 style, read in a
# terminal through help()), not full reST: |x| is an absolute value, N*C a product, xavier_uniform_
# a function name. Escape those three reST markups outside literals, roles and code blocks so the
# docstrings render as written and the build can keep warnings as errors.
_LITERAL = re.compile(r"(``.+?``|:[a-z:]+:`[^`]+`|`[^`]+`_?)", re.S)  # a literal may span lines
_PLAIN = re.compile(r"(?<!\\)([*|])|(?<=\w)_(?=[\s.,;:)\]]|$)", re.M)


def _escape(text: str) -> str:
    parts = _LITERAL.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside literals and roles
        parts[i] = _PLAIN.sub(lambda m: "\\" + m.group(0), parts[i])
    return "".join(parts)


def _escape_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    # runs of prose lines are escaped together (a ``literal`` may be broken across lines); literal
    # blocks (the indented block after a '::' line), doctest lines and directives are left alone
    prose: list[int] = []
    code_indent = None  # indentation of the paragraph that opened a literal block with '::'

    def flush() -> None:
        if prose:
            escaped = _escape("\n".join(lines[j] for j in prose)).split("\n")
            for j, text in zip(prose, escaped):
                lines[j] = text
            prose.clear()

    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if code_indent is not None:
            if not stripped or indent > code_indent:
                continue
            code_indent = None
        if stripped.startswith((">>>", "...", "..")):
            flush()
            continue
        prose.append(i)
        if stripped.endswith("::"):
            flush()
            code_indent = indent
    flush()


def _skip_alias(app, what, name, obj, skip, options):
    # a class re-exported as a class attribute (ReduceOp.RedOpType) is documented where it is defined
    if what == "class" and isinstance(obj, type) and "." not in obj.__qualname__:
        return True
    return None


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _escape_docstring)
    app.connect("autodoc-skip-member", _skip_alias)
