"""The documentation: it builds, offline and without a warning, documents the
API it claims to, and says what the code does.

* ``make docs``'s Sphinx build, run into a temporary directory with ``-W``:
  the exit status, and pages that exist only if autodoc found the compiled
  classes, the stub's signatures, every compat function;
* docs/libevent-table.md is what docs/gen_libevent_table.py generates from
  the code now, and the generator still resolves most rows;
* every Python snippet of the Markdown pages that names its source file in
  a caption is still in that file (the examples are run by their own tests);
* bench/chart.py draws the chart of docs/benchmarks.md from the benchmarks'
  JSON output.
"""
import html
import importlib.util
import json
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import evloop.compat

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 300


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the Sphinx build --------------------------------------------------------------------

@pytest.fixture(scope="module")
def build(tmp_path_factory):
    pytest.importorskip("sphinx", reason="sphinx is in requirements-dev.txt")
    pytest.importorskip("myst_parser", reason="myst-parser is in requirements-dev.txt")
    out = tmp_path_factory.mktemp("docs")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                          check=False)
    return proc, out / "html"


def _page(html_dir, name):
    path = html_dir / name
    assert path.is_file(), f"{name} was not built"
    return path.read_text(encoding="utf-8")


def _signature(page, anchor):
    """The text of the signature line autodoc wrote for ``anchor``."""
    m = re.search(rf'<dt[^>]*id="{re.escape(anchor)}"[^>]*>(.*?)</dt>', page, re.DOTALL)
    assert m, f"no entry {anchor}"
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).replace("\N{PILCROW SIGN}", "").strip()


@pytest.mark.slow
def test_docs_build_without_warnings(build):
    proc, _ = build
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr


@pytest.mark.slow
def test_every_page_is_built(build):
    _, out = build
    for name in ("index.html", "porting.html", "frameworks.html", "libevent-table.html",
                 "design.html", "benchmarks.html", "reference/libevent.html",
                 "reference/asyncio.html", "reference/compat.html"):
        _page(out, name)


@pytest.mark.slow
def test_libevent_face_reference_has_the_compiled_classes(build):
    _, out = build
    page = _page(out, "reference/libevent.html")
    for anchor in ("evloop.EventBase.loop", "evloop.EventBase.loopexit", "evloop.EventConfig.set_flag",
                   "evloop.Event.add", "evloop.Event.fd", "evloop.Evbuffer.readln",
                   "evloop.Bufferevent.setcb", "evloop.Listener.bind", "evloop.RateLimitGroup.add",
                   "evloop.TokenBucketCfg", "evloop.EV_READ", "evloop.BEV_EVENT_EOF"):
        assert f'id="{anchor}"' in page, anchor
    # The signatures are the stub's (types, no self), not Cython's embedded
    # ones ("Bufferevent.write_buffer(self, Evbuffer buf)").
    assert _signature(page, "evloop.EventBase.loop") == "loop(flags: int = 0) → int"
    assert _signature(page, "evloop.Bufferevent.write_buffer") == "write_buffer(buf: Evbuffer) → None"
    assert _signature(page, "evloop.EventBase").startswith("class EventBase(config: EventConfig")
    # the stub's module docstring: the conventions
    assert "A <em>timeout</em> argument is" in page


@pytest.mark.slow
def test_asyncio_face_reference(build):
    _, out = build
    page = _page(out, "reference/asyncio.html")
    for anchor in ("evloop.EventLoop", "evloop.EventLoop.call_soon", "evloop.EventLoop.sock_recv",
                   "evloop.EventLoop.add_signal_handler", "evloop.EventLoopPolicy", "evloop.run",
                   "evloop.new_event_loop", "evloop.install", "evloop.BuffereventProtocol",
                   "evloop.workers.EvloopUvicornWorker", "evloop.workers.EvloopAiohttpWorker"):
        assert f'id="{anchor}"' in page, anchor
    assert _signature(page, "evloop.EventLoop.call_soon").startswith("call_soon(callback: Callable")


@pytest.mark.slow
def test_compat_reference_has_every_function(build):
    _, out = build
    page = _page(out, "reference/compat.html")
    documented = set(re.findall(r'<dt[^>]*id="(evloop\.compat\.[a-z_]+\.[A-Za-z_]+)"', page))
    expected = {f"{fn.__module__}.{name}" for name in evloop.compat.__all__
                if callable(fn := getattr(evloop.compat, name)) and not isinstance(fn, type)}
    assert len(expected) > 200
    assert expected - documented == set()


@pytest.mark.slow
def test_libevent_table_links_resolve(build):
    _, out = build
    page = _page(out, "libevent-table.html")
    refs = re.findall(r'(<a class="reference internal"[^>]*>)?<code class="xref py', page)
    assert len(refs) > 400
    assert sum(1 for a in refs if not a) == 0


def test_the_build_needs_no_network():
    conf = runpy.run_path(str(DOCS / "conf.py"))
    assert "sphinx.ext.intersphinx" not in conf["extensions"]
    assert not conf.get("intersphinx_mapping")


# -- the generated table ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def table():
    return _load(DOCS / "gen_libevent_table.py", "gen_libevent_table")


@pytest.fixture(scope="module")
def generated(table):
    return table.build()


def test_libevent_table_is_current(table, generated):
    rows, counts, statuses = generated
    text = table.render(rows, counts, statuses)
    committed = (DOCS / "libevent-table.md").read_text(encoding="utf-8")
    assert committed == text, "docs/libevent-table.md is stale: run python docs/gen_libevent_table.py"


def test_libevent_table_resolves_most_rows(generated):
    rows, counts, statuses = generated
    functions = [n for n in evloop.compat.__all__
                 if callable(getattr(evloop.compat, n)) and not isinstance(getattr(evloop.compat, n), type)]
    assert len(rows) == len(functions)
    # Rows that wrap evloop objects: at least 80% name exactly one member.
    wrapping = counts["resolved"] + counts["wrapper"]
    assert counts["resolved"] >= 0.8 * wrapping, counts
    # Only the evutil_* helpers (and the logging hook) need no evloop object.
    assert {n for n, st in statuses if st == "python"} - {
        n for n in functions if n.startswith("evutil_")} <= {"event_set_log_callback"}
    objects = {name: obj for _, name, _, obj, _ in rows}
    assert "`Event.add() <evloop.Event.add>`" in objects["event_add"]
    assert "`Event.add() <evloop.Event.add>`" in objects["evtimer_add"]
    assert "`Event(...) <evloop.Event>`" in objects["event_new"]
    assert "`Event.fd <evloop.Event.fd>`" in objects["event_get_fd"]
    assert "`Bufferevent(...) <evloop.Bufferevent>`" in objects["bufferevent_socket_new"]
    assert "`Bufferevent.pair() <evloop.Bufferevent.pair>`" in objects["bufferevent_pair_new"]
    assert "`Listener.bind() <evloop.Listener.bind>`" in objects["evconnlistener_new_bind"]
    assert "`Evbuffer.readln() <evloop.Evbuffer.readln>`" in objects["evbuffer_readln"]
    assert "`RateLimitGroup.add() <evloop.RateLimitGroup.add>`" in objects[
        "bufferevent_add_to_rate_limit_group"]


def test_libevent_table_says_wrapper_where_it_cannot_tell(table, generated):
    # event_set() makes an Event or re-assigns one: two calls, no single member.
    rows, _, _ = generated
    notes = {name: (obj, note) for _, name, _, obj, note in rows}
    assert notes["event_set"][0] == table.WRAPPER
    assert "`event_new`" in notes["event_set"][1] and "`event_assign`" in notes["event_set"][1]


# -- snippets -----------------------------------------------------------------------------------

SNIPPET = re.compile(r"^```\{code-block\} python\n:caption: (?P<path>\S+)\n\n(?P<body>.*?)^```$",
                     re.DOTALL | re.MULTILINE)


def _snippets():
    for page in sorted(DOCS.glob("*.md")):
        for m in SNIPPET.finditer(page.read_text(encoding="utf-8")):
            yield page.name, m.group("path"), m.group("body")


def test_snippets_are_copied_from_their_files():
    found = list(_snippets())
    assert len(found) >= 12
    for page, path, body in found:
        source = [line.strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()]
        chunks = [[]]
        for line in body.splitlines():
            if line.strip() == "...":
                chunks.append([])
            else:
                chunks[-1].append(line.strip())
        start = 0
        for chunk in filter(None, chunks):
            # each chunk is a run of consecutive lines of the file, in order
            at = next((i for i in range(start, len(source) - len(chunk) + 1)
                       if source[i:i + len(chunk)] == chunk), None)
            assert at is not None, f"{page}: not in {path} (in this order):\n" + "\n".join(chunk)
            start = at + len(chunk)


# -- the chart -----------------------------------------------------------------------------------

def _bench_json():
    """One tiny result of each benchmark, in the structure its --json writes."""
    echo = {"benchmark": "echo", "config": {}, "runs": [], "summary": [], "ratios": [
        {"mode": "protocol", "size": 1024, "cpu_vs_uvloop": 0.9, "rps_vs_uvloop": 1.1},
        {"mode": "protocol", "size": 10240, "cpu_vs_uvloop": 1.1, "rps_vs_uvloop": 0.9},
        {"mode": "sockets", "size": 1024, "cpu_vs_uvloop": None, "rps_vs_uvloop": None}]}
    aiohttp = {"benchmark": "aiohttp_wrk", "runs": [], "summary": {},
               "ratios": {"cpu_vs_uvloop": 1.0, "rps_vs_uvloop": 1.0}}
    pipes = {"machine": {}, "argv": [], "configs": [
        {"active": 1, "ratios": {"uvloop/evloop": 1.25, "evloop/libevent_c": 1.3}},
        {"active": 10, "ratios": {"uvloop/evloop": None, "evloop/libevent_c": None}}]}
    overhead = {"machine": {}, "results": {}, "summary": {
        "call_soon": {"ns_per_op": {}, "ev_vs_uvloop": 0.5}, "timers": {"ns_per_op": {}}}}
    bev = {"machine": {}, "args": {}, "runs": [], "summaries": {"1024": {"ratio": 1.05}}}
    return {"echo": echo, "aiohttp": aiohttp, "pipes": pipes, "overhead": overhead, "bev": bev}


@pytest.mark.slow
def test_chart_reads_every_benchmark_json(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is in requirements-dev.txt")
    files = []
    for name, data in _bench_json().items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        files.append(str(path))
    out = tmp_path / "chart.png"
    # A subprocess, as it is used (and matplotlib's font cache keeps a file
    # open for the life of the process that draws).
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "chart.py"), *files, "-o", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        f"wrote {out}: pipes (bench.c), loop overhead, echo, protocol, aiohttp, "
        "pipes (bench.c), bufferevent echo")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_ratios():
    chart = _load(ROOT / "bench" / "chart.py", "bench_chart")
    data = _bench_json()
    # pipes records uvloop/evloop (time per round): the chart shows evloop/uvloop
    assert chart.groups_of(data["pipes"]) == (
        [("pipes (bench.c)", [("A = 1", pytest.approx(0.8))])],
        [("pipes (bench.c)", [("A = 1", 1.3)])])
    assert chart.groups_of(data["echo"]) == (
        [("echo, protocol", [("1 KiB", 0.9), ("10 KiB", 1.1)])], [])
    assert chart.groups_of(data["overhead"]) == ([("loop overhead", [("call_soon", 0.5)])], [])
    assert chart.groups_of(data["bev"]) == ([], [("bufferevent echo", [("1 KiB", 1.05)])])


def test_chart_refuses_other_json(tmp_path):
    chart = _load(ROOT / "bench" / "chart.py", "bench_chart")
    with pytest.raises(ValueError, match="not the --json output"):
        chart.kind({"something": "else"})
