"""Charts as server-side SVG: no script, no library, readable without JavaScript. Pure functions
from numbers to markup (escaped), with their own tests."""

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 200, 48, 22, 10


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top`` (1, 2, 2.5, 5 × 10^n)."""
    if top <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(top))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= top * (1 - 1e-9))


def _frame(title: str, body: str, top: float, unit: str) -> str:
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    grid = "".join(
        f"<line x1='{PAD_LEFT}' x2='{WIDTH}' y1='{PAD_TOP + plot_h * (1 - f):.1f}' y2='{PAD_TOP + plot_h * (1 - f):.1f}' "
        f"class='grid'/><text x='{PAD_LEFT - 4}' y='{PAD_TOP + plot_h * (1 - f) + 4:.1f}' class='axis' "
        f"text-anchor='end'>{escape(_number(top * f))}</text>" for f in (0, 0.5, 1))
    return (f"<svg class='chart' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' aria-label='{escape(title)}' "
            f"><title>{escape(title)}</title>{grid}"
            f"<text x='{PAD_LEFT + 4}' y='{PAD_TOP + 10}' class='axis'>{escape(unit)}</text>{body}</svg>")


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"


def bars(title: str, points: Sequence[tuple[str, float]], unit: str) -> str:
    """A bar per (label, value); labels shown under every few bars so they never overlap."""
    top = _nice(max((v for _, v in points), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(points), 1)
    every = max(1, round(len(points) / 8))
    body = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        x = PAD_LEFT + i * step
        body.append(f"<rect x='{x + step * 0.15:.1f}' y='{PAD_TOP + plot_h - h:.1f}' width='{step * 0.7:.1f}' "
                    f"height='{h:.1f}' class='bar'><title>{escape(label)}: {escape(_number(value))} {escape(unit)}"
                    f"</title></rect>")
        if i % every == 0:
            body.append(f"<text x='{x + step / 2:.1f}' y='{HEIGHT - PAD_BOTTOM + 14}' class='axis' "
                        f"text-anchor='middle'>{escape(label)}</text>")
    return _frame(title, "".join(body), top, unit)


def lines(title: str, series: Sequence[tuple[str, Sequence[tuple[datetime, float]]]], unit: str) -> str:
    """One polyline per (name, [(time, value)]) over a shared time axis; an empty chart says so."""
    stamps = [t for _, pts in series for t, _ in pts]
    if not stamps:
        return _frame(title, f"<text x='{WIDTH / 2}' y='{HEIGHT / 2}' class='axis' text-anchor='middle'>"
                             "no readings yet</text>", 1.0, unit)
    start, end = min(stamps), max(stamps)
    span = max((end - start).total_seconds(), 1.0)
    top = _nice(max((v for _, pts in series for _, v in pts), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_BOTTOM - PAD_TOP
    body = []
    for index, (name, pts) in enumerate(series):
        coords = " ".join(f"{PAD_LEFT + plot_w * (t - start).total_seconds() / span:.1f},"
                          f"{PAD_TOP + plot_h * (1 - v / top):.1f}" for t, v in pts)
        body.append(f"<polyline points='{coords}' class='line line{index}'><title>{escape(name)}</title></polyline>")
    body.append(f"<text x='{PAD_LEFT}' y='{HEIGHT - PAD_BOTTOM + 14}' class='axis'>{start:%H:%M}</text>"
                f"<text x='{WIDTH}' y='{HEIGHT - PAD_BOTTOM + 14}' class='axis' text-anchor='end'>{end:%H:%M}</text>")
    return _frame(title, "".join(body), top, unit)


BAR_W, BAR_H = 240, 18


def phase_bar(limit_a: float, unmanaged_a: float, allocated_a: float, drawn_a: float, label: str = "") -> str:
    """One circuit phase as a horizontal bar: unmanaged load from the left, the EVSEs' allocation
    after it, what they draw as a thinner bar inside, and the limit as a line (docs/dashboard.md,
    "Circuits"). The scale fits whichever is largest, so an overload shows past the line."""
    values = [max(v, 0.0) for v in (limit_a, unmanaged_a, allocated_a, drawn_a)]
    limit_a, unmanaged_a, allocated_a, drawn_a = values
    top = max(limit_a, unmanaged_a + allocated_a, unmanaged_a + drawn_a) or 1.0
    x = lambda amps: BAR_W * amps / top  # noqa: E731
    line = min(x(limit_a), BAR_W - 1.0)  # the limit's line stays whole at the right edge
    over = " over" if unmanaged_a + max(allocated_a, drawn_a) > limit_a + 1e-6 else ""
    title = (f"{label + ': ' if label else ''}limit {_number(limit_a)} A, unmanaged {_number(unmanaged_a)} A, "
             f"allocated {_number(allocated_a)} A, drawn {_number(drawn_a)} A")
    return (f"<svg class='phase-bar{over}' viewBox='0 0 {BAR_W} {BAR_H}' role='img' aria-label='{escape(title)}'>"
            f"<title>{escape(title)}</title>"
            f"<rect x='0' y='0' width='{BAR_W}' height='{BAR_H}' class='free'/>"
            f"<rect x='0' y='0' width='{x(unmanaged_a):.1f}' height='{BAR_H}' class='unmanaged'/>"
            f"<rect x='{x(unmanaged_a):.1f}' y='0' width='{x(allocated_a):.1f}' height='{BAR_H}' class='allocated'/>"
            f"<rect x='{x(unmanaged_a):.1f}' y='{BAR_H * 0.3:.1f}' width='{x(drawn_a):.1f}' height='{BAR_H * 0.4:.1f}' "
            f"class='drawn'/>"
            f"<line x1='{line:.1f}' x2='{line:.1f}' y1='0' y2='{BAR_H}' class='limit'/></svg>")
