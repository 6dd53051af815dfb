"""Draw docs/benchmarks.png from the benchmarks' --json output.

    .venv/bin/python bench/chart.py bench/out/echo.json bench/out/aiohttp.json \
        bench/out/pipes.json bench/out/overhead.json bench/out/bev.json -o docs/benchmarks.png

Reads any mix of the JSON files that bench/echo.py, bench/aiohttp_wrk.py,
bench/pipes.py, bench/loop_overhead.py and bench/echo_bufferevent.py write
with --json (the kind of each file is recognised from its keys) and draws a
grouped bar chart of evloop's cost per operation relative to uvloop, one
group per workload: server CPU time per request (echo, aiohttp), time per
round (pipes), ns per operation (loop overhead).  Below 1 evloop costs less
than uvloop.  The workloads measured against C libevent instead
(bench/echo_bufferevent.py; pipes also has a C column) go in a second
panel, evloop relative to libevent.  Runs nothing; needs matplotlib.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "docs", "benchmarks.png")


def size_label(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


def kind(data: dict) -> str:
    """Which benchmark wrote ``data``."""
    if data.get("benchmark") == "echo":
        return "echo"
    if data.get("benchmark") == "aiohttp_wrk":
        return "aiohttp"
    if "configs" in data:
        return "pipes"
    if "summaries" in data and "runs" in data:
        return "echo_bufferevent"
    if isinstance(data.get("summary"), dict) and "results" in data:
        return "loop_overhead"
    raise ValueError("not the --json output of a benchmark in bench/ "
                     "(echo, aiohttp_wrk, pipes, loop_overhead, echo_bufferevent)")


def groups_of(data: dict) -> tuple[list, list]:
    """(groups vs uvloop, groups vs C libevent) of one file; a group is
    (title, [(bar label, ratio), ...]) with ratio = evloop's cost / the other's."""
    k = kind(data)
    vs_uv, vs_c = [], []
    if k == "echo":
        modes = {}
        for r in data.get("ratios", []):
            if r.get("cpu_vs_uvloop") is not None:
                modes.setdefault(r["mode"], []).append((size_label(r["size"]), r["cpu_vs_uvloop"]))
        vs_uv += [(f"echo, {mode}", bars) for mode, bars in modes.items()]
    elif k == "aiohttp":
        r = (data.get("ratios") or {}).get("cpu_vs_uvloop")
        if r is not None:
            vs_uv.append(("aiohttp", [("hello world", r)]))
    elif k == "pipes":
        uv, c = [], []
        for cfg in data["configs"]:
            ratios = cfg.get("ratios", {})
            label = f"A = {cfg['active']}"
            if ratios.get("uvloop/evloop"):  # time per round, so evloop/uvloop = 1 / this
                uv.append((label, 1 / ratios["uvloop/evloop"]))
            if ratios.get("evloop/libevent_c") is not None:
                c.append((label, ratios["evloop/libevent_c"]))
        if uv:
            vs_uv.append(("pipes (bench.c)", uv))
        if c:
            vs_c.append(("pipes (bench.c)", c))
    elif k == "loop_overhead":
        bars = [(w, s["ev_vs_uvloop"]) for w, s in data["summary"].items()
                if s.get("ev_vs_uvloop") is not None]
        if bars:
            vs_uv.append(("loop overhead", bars))
    elif k == "echo_bufferevent":
        bars = [(size_label(int(size)), s["ratio"]) for size, s in data["summaries"].items()
                if s.get("ratio") is not None]
        if bars:
            vs_c.append(("bufferevent echo", bars))
    return vs_uv, vs_c


# The groups' order in the chart, whatever the order of the files.
ORDER = ["pipes (bench.c)", "loop overhead", "echo, protocol", "echo, streams", "echo, sockets",
         "aiohttp", "bufferevent echo"]


def _order(group):
    title = group[0]
    return ORDER.index(title) if title in ORDER else len(ORDER)


def draw(ax, groups, reference):
    """One panel: the groups' bars side by side, a gap between groups, each
    bar drawn from the line at 1 (parity with ``reference``) to its value."""
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
              "#da8bc3", "#8c8c8c"]
    x, ticks, labels, centers = 0.0, [], [], []
    for gi, (title, bars) in enumerate(groups):
        start = x
        for label, value in bars:
            # from the parity line: up where evloop costs more, down where less
            ax.bar(x, value - 1.0, bottom=1.0, width=0.8, color=colors[gi % len(colors)])
            above = value >= 1.0
            ax.annotate(f"{value:.2f}", (x, value), ha="center", va="bottom" if above else "top",
                        fontsize=7, xytext=(0, 2 if above else -2), textcoords="offset points")
            ticks.append(x)
            labels.append(label)
            x += 1
        centers.append(((start + x - 1) / 2, title))
        x += 0.8
    ax.axhline(1.0, color="black", linewidth=0.8)
    # A ratio axis is logarithmic: 0.5 and 2 are the same distance from parity.
    values = [v for _, bars in groups for _, v in bars]
    ax.set_yscale("log")
    low, high = min(values + [1.0]) / 1.5, max(values + [1.0]) * 1.5
    ax.set_ylim(low, high)
    marks = [m for m in (0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10) if low <= m <= high]
    ax.set_yticks(marks)
    ax.set_yticklabels([f"{m:g}" for m in marks], fontsize=8)
    ax.minorticks_off()
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    for center, title in centers:
        ax.annotate(title, (center, 1.0), xycoords=("data", "axes fraction"), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 4), textcoords="offset points")
    ax.set_ylabel(f"evloop / {reference}\n(cost per operation; < 1: evloop cheaper)", fontsize=8)
    ax.set_xlim(-0.8, x - 0.2)


def render(files, out, title=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vs_uv, vs_c = [], []
    for path in files:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        try:
            u, c = groups_of(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path}: {exc}") from None
        vs_uv += u
        vs_c += c
    panels = [(g, ref) for g, ref in ((vs_uv, "uvloop"), (vs_c, "C libevent")) if g]
    if not panels:
        raise SystemExit("no evloop ratio in the files given (did the runs include evloop "
                         "and uvloop, or the C column?)")
    widths = [sum(len(b) for _, b in g) + len(g) for g, _ in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(max(6.0, 0.42 * sum(widths) + 2), 4.2),
                             gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, (groups, ref) in zip(axes[0], panels, strict=True):
        draw(ax, sorted(groups, key=_order), ref)
    fig.suptitle(title or "evloop's cost per operation relative to uvloop and C libevent",
                 fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    # No timestamp in the file, so the same data gives the same bytes.
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return [t for g, _ in panels for t, _ in sorted(g, key=_order)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", metavar="RESULT.json",
                    help="--json output of bench/echo.py, aiohttp_wrk.py, pipes.py, "
                         "loop_overhead.py or echo_bufferevent.py")
    ap.add_argument("-o", "--output", default=DEFAULT_OUT, help="the PNG to write (default: "
                    "docs/benchmarks.png)")
    ap.add_argument("--title", help="the chart's title")
    args = ap.parse_args(argv)
    groups = render(args.files, args.output, args.title)
    print(f"wrote {args.output}: {', '.join(groups)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
