"""The documentation site (docs/, ``make docs``): it builds with warnings as errors, the
getting-started page's code blocks run (Sphinx's doctest builder), and a real headless Chromium
loads the built pages without a script error or a missing file and finds 'autocast' through the
site's search page.

Besides the getting-started page, the examples on the area pages (tensors and autograd, nn, optim,
data, checkpoints, mixed precision, GPU; the profiler's where ``ferrum.profiler`` exists) are testcode
blocks, so they run too. The site is built once per test session (one build shared by the
pytest-xdist workers, under a file lock): ~16 s for the HTML on one idle core, ~2 s for the doctest
builder, which reuses the parsed pages.
The browser tests drive Chromium's own ``--dump-dom`` mode (the page loads, its scripts run, the
resulting DOM is printed; console messages go to stderr), so they need no Python browser driver;
they are skipped where no Chromium binary is found (``make test`` installs Debian's
chromium-headless-shell where apt-get is). The build tests skip where Sphinx is not installed
(extra ``docs``), except under CI, where a missing Sphinx fails.
"""

from __future__ import annotations

import fcntl
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE = ["index", "getting-started", "tensors-autograd", "nn", "optim", "data", "checkpoints",
         "mixed-precision", "distributed", "gpu", "profiler", "compatibility", "benchmarks"]
BROWSERS = ("chromium", "chromium-browser", "chromium-headless-shell", "google-chrome",
            "google-chrome-stable")


def _need_sphinx() -> None:
    for mod in ("sphinx", "myst_parser"):
        try:
            __import__(mod)
        except ImportError:
            if os.environ.get("CI"):
                pytest.fail(f"{mod} is not installed: CI must build the docs (extra 'docs')")
            pytest.skip(f"{mod} is not installed (pip install -e '.[docs]' -c constraints.txt)")


def _sphinx(builder: str, out: Path, doctrees: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", *extra, "-b", builder,
           "-d", str(doctrees), str(DOCS), str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The built site (html/, doctest/); one build per session, shared by the xdist workers."""
    _need_sphinx()
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's root, the same for every worker
    out = base / "ferrum-docs"
    with open(base / "ferrum-docs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = out / "result.json"
        if not result.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            steps = {}
            html_run = _sphinx("html", out / "html", out / "doctrees", "-E")
            steps["html"] = [html_run.returncode, html_run.stdout + html_run.stderr]
            if html_run.returncode == 0:
                dt = _sphinx("doctest", out / "doctest", out / "doctrees")
                steps["doctest"] = [dt.returncode, dt.stdout + dt.stderr]
            result.write_text(json.dumps(steps))
    steps = json.loads(result.read_text())
    rc, log = steps["html"]
    assert rc == 0, f"the docs build failed or warned (warnings are errors):\n{log}"
    return out


def test_build_has_every_page(site):
    for page in GUIDE + ["search", "genindex", "py-modindex"]:
        assert (site / "html" / f"{page}.html").is_file(), page
    api = {p.stem for p in (site / "html" / "api").glob("*.html")}
    for mod in ("ferrum", "ferrum.nn", "ferrum.nn.functional", "ferrum.optim", "ferrum.optim.lr_scheduler",
                "ferrum.utils.data", "ferrum.amp", "ferrum.autograd", "ferrum.distributed",
                "ferrum.utils.checkpoint", "ferrum.func", "ferrum.serialization", "ferrum.onnx",
                "ferrum.models", "ferrum.datasets", "ferrum.transforms"):
        assert mod in api, mod


def test_api_pages_come_from_the_docstrings(site):
    import ferrum

    page = (site / "html" / "api" / "ferrum.amp.html").read_text()
    assert 'id="ferrum.amp.GradScaler"' in page and 'id="ferrum.amp.autocast"' in page
    words = set(re.findall(r"[A-Za-z_]{3,}", html.unescape(re.sub(r"<[^>]+>", " ", page))))
    for obj in (ferrum.amp.GradScaler, ferrum.amp.autocast):
        missing = set(re.findall(r"[A-Za-z_]{3,}", obj.__doc__)) - words
        assert not missing, f"{obj.__name__}'s docstring is not on the page: {sorted(missing)[:10]}"
    nn_page = (site / "html" / "api" / "ferrum.nn.html").read_text()
    assert 'id="ferrum.nn.Linear"' in nn_page and 'id="ferrum.nn.LSTM"' in nn_page


def test_docstring_markup_renders_as_written(site):
    """conf.py escapes the plain-text markup of the docstrings (|x|, N*C, xavier_uniform_) outside
    literals: the pages show it as written, and no escape leaks into a literal."""
    for page in (site / "html" / "api").glob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        leaked = re.findall(r".{0,40}\\[*|_].{0,20}", text)
        assert not leaked, f"{page.name}: {leaked[:3]}"
    nn_text = html.unescape(re.sub(r"<[^>]+>", "", (site / "html" / "api" / "ferrum.nn.html").read_text()))
    assert "x / (1 + |x|)" in nn_text and "xavier_uniform_ projections" in nn_text
    amp_text = html.unescape(re.sub(r"<[^>]+>", "", (site / "html" / "api" / "ferrum.amp.html").read_text()))
    assert "init_scale=2.**16" in amp_text  # inside a ``literal`` that spans two lines


def test_included_pages(site):
    bench = (site / "html" / "benchmarks.html").read_text()
    assert "micro_chain" in bench and "<table" in bench  # benchmarks/README.md's tables
    compat = (site / "html" / "compatibility.html").read_text()
    assert re.search(r"<h1>[^<]*[Cc]ompatibility", compat), "the compatibility page has no title"


def test_code_blocks_run(site):
    """The doctest builder ran every tested block (getting-started, and the examples of the area
    pages) and all passed; the getting-started page's blocks are among them."""
    rc, log = json.loads((site / "result.json").read_text())["doctest"]
    report = (site / "doctest" / "output.txt").read_text()
    assert rc == 0, f"code blocks on the pages failed:\n{log}\n{report}"
    m = re.search(r"(\d+) tests\s+(\d+) failures in tests", report)
    assert m, report
    assert int(m.group(2)) == 0, report
    pages = dict(re.findall(r"Document: (\S+)\n-+\n\d+ items? passed all tests:\n\s+(\d+) tests", report))
    assert int(pages.get("getting-started", 0)) >= 9, report
    for page in ("tensors-autograd", "nn", "optim", "data", "checkpoints", "mixed-precision", "gpu"):
        assert int(pages.get(page, 0)) >= 1, f"{page}: its example did not run\n{report}"


def test_getting_started_doctest_catches_a_wrong_output(tmp_path):
    """The doctest run is a real check: a page whose printed output is wrong fails the builder."""
    _need_sphinx()
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser", "sphinx.ext.doctest"]\n'
                                 'doctest_global_setup = "import ferrum"\n')
    (src / "index.md").write_text("# t\n\n```{doctest}\n>>> ferrum.tensor([1, 2]).sum()\ntensor(4)\n```\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "sphinx", "-q", "-b", "doctest", str(src), str(tmp_path / "o")]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode != 0
    assert "1 failure" in (tmp_path / "o" / "output.txt").read_text()


# --- a real headless browser -------------------------------------------------------------------

def _chromium() -> str:
    found = os.environ.get("FERRUM_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if not found:
        pytest.skip("no Chromium found (chromium, chromium-headless-shell, google-chrome, $FERRUM_CHROMIUM)")
    return found


class _Server:
    """The built site over HTTP on 127.0.0.1 (as a user's browser or a docs host sees it), recording
    every request that failed."""

    def __init__(self, root: Path):
        self.failed: list[str] = []
        failed = self.failed

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, fmt, *args):  # quiet; failures are recorded instead
                pass

            def send_error(self, code, message=None, explain=None):
                failed.append(f"{code} {self.path}")
                super().send_error(code, message, explain)

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    exe = _chromium()
    server = _Server(site / "html")
    profile = tmp_path_factory.mktemp("chromium-profile")

    def load(path: str) -> tuple[str, list[str]]:
        """The page's DOM after its scripts ran, and the console errors it logged."""
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--enable-logging=stderr",
               "--v=0", "--dump-dom", f"{server.url}/{path}"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, f"{exe} failed on {path}:\n{run.stderr[-3000:]}"
        errors = [ln for ln in run.stderr.splitlines() if ":CONSOLE" in ln and
                  re.search(r"Uncaught|Error|Failed to load", ln)]
        return run.stdout, errors

    yield load, server
    server.close()


def test_browser_pages_load(browser, site):
    load, server = browser
    # every guide page, and API pages (one template, so three of them: the largest and two others)
    pages = GUIDE + ["api/ferrum", "api/ferrum.nn", "api/ferrum.amp", "genindex", "py-modindex"]
    for page in pages:
        dom, errors = load(f"{page}.html")
        assert not errors, f"{page}: {errors}"
        assert re.search(r"<h1[^>]*>", dom), f"{page}: no <h1> in the rendered page"
        assert 'class="sphinxsidebar"' in dom, f"{page}: the page's layout did not render"
    assert not server.failed, f"requests that failed: {server.failed}"
    dom, _ = load("getting-started.html")
    assert "for epoch in range(10):" in html.unescape(re.sub(r"<[^>]+>", "", dom))


def test_browser_search_finds_autocast(browser):
    load, server = browser
    dom, errors = load("search.html?q=autocast")
    assert not errors, errors
    results = re.search(r'<ul[^>]*class="search"[^>]*>(.*?)</ul>', dom, re.S)
    assert results, "the search page rendered no result list"
    links = re.findall(r'<a href="([^"]+)"', results.group(1))
    assert "mixed-precision.html" in [link.split("#")[0] for link in links], links
    assert any(link.startswith("api/ferrum.amp.html#ferrum.amp.autocast") for link in links), links
    assert not server.failed, f"requests that failed: {server.failed}"
    dom, _ = load("search.html?q=zzqqxnotaword")
    assert re.search(r"did not match any|found 0 pages|Your search did not", dom), "no empty-result message"
