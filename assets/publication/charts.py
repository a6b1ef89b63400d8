"""Static SVG charts for the HTML release: a funnel plot and trend lines.

Charts are inline SVG (no JavaScript) with a <title> and <desc> as the text alternative
and the data table placed next to them on the page (GSS Government Analysis Function,
"Data visualisation: charts", accessibility). Series are told apart by line pattern and
marker shape as well as colour (WCAG 2.2 1.4.1 Use of colour); colours have at least 3:1
contrast with the white background (1.4.11 Non-text contrast).

Funnel limits: for a cohort of n children and England rate p, the 95% (99.8%) limits are
the 2.5th and 97.5th (0.1th and 99.9th) percentiles of Binomial(n, p) divided by n,
interpolated so the curves are smooth (Spiegelhalter, "Funnel plots for comparing
institutional performance", Stat Med 2005). Between-LA variation is usually wider than
chance alone predicts; when the plot's over-dispersion test says so, the limits are the
additive random-effects limits instead (Spiegelhalter, "Handling over-dispersion of
performance indicators", Qual Saf Health Care 2005; the NHS-R FunnelPlotR approach), and
the chart states phi and the test (assets.measures.comparison.dispersion).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
from scipy.stats import binom

from assets.measures.comparison import (
    Dispersion,
    dispersion,
    funnel_limit,
    random_effects_limit,
)

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 20, 64
# Text size in viewBox units: 16 of 640 stays at least 12 CSS px at the 480 px minimum
# width the stylesheet gives a chart (it scrolls sideways below that).
FONT_SIZE = 16
INK = "#0b0c0c"
GREY = "#505a5f"
BLUE = "#1d70b8"
ORANGE = "#b04600"  # 5.0:1 on white
HIGHLIGHT = "#d4351c"
LIMITS = {"95%": (0.95, "6 4"), "99.8%": (0.998, "2 3")}


@dataclass(frozen=True)
class Scale:
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, v):
        return LEFT + (np.asarray(v, dtype=float) - self.x0) / (self.x1 - self.x0) * (
            WIDTH - LEFT - RIGHT
        )

    def y(self, v):
        return (
            HEIGHT
            - BOTTOM
            - (np.asarray(v, dtype=float) - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)
        )


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    mag = 10 ** np.floor(np.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _ticks(lo: float, hi: float) -> list[float]:
    step = max(_nice_step(hi - lo), 1.0)
    start = np.ceil(lo / step) * step
    return [float(t) for t in np.arange(start, hi + step / 2, step) if lo <= t <= hi]


def _axes(scale: Scale, xlabel: str, ylabel: str, xfmt=lambda v: f"{v:,.0f}") -> list[str]:
    out = []
    bottom = HEIGHT - BOTTOM
    for t in _ticks(scale.y0, scale.y1):
        y = float(scale.y(t))
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{t:.0f}</text>'
        )
    for t in _ticks(scale.x0, scale.x1):
        x = float(scale.x(t))
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 5}" stroke="{INK}"/>'
            f'<text x="{x:.1f}" y="{bottom + 20}" text-anchor="middle">{escape(xfmt(t))}</text>'
        )
    out.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="{INK}"/>'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}" stroke="{INK}"/>'
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 14}" text-anchor="middle">{escape(xlabel)}</text>'
        f'<text transform="translate(18 {(TOP + bottom) / 2:.0f}) rotate(-90)" text-anchor="middle">{escape(ylabel)}</text>'
    )
    return out


def _svg(chart_id: str, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f'<g font-family="inherit" font-size="{FONT_SIZE}" fill="{INK}">'
        + "".join(body)
        + "</g></svg>"
    )


def funnel_limits(p: float, n_max: int, n_min: int = 1) -> pd.DataFrame:
    """Exact binomial control limits (as %) around England rate ``p`` for n = n_min..n_max."""
    n = np.arange(max(n_min, 1), max(n_max, n_min + 1) + 1)
    out = pd.DataFrame({"n": n})
    for label, (level, _dash) in LIMITS.items():
        tail = (1 - level) / 2
        out[f"lower_{label}"] = 100 * binom.ppf(tail, n, p) / n
        out[f"upper_{label}"] = 100 * binom.ppf(1 - tail, n, p) / n
    return out


def funnel_curves(p: float, n_max: int, n_min: int = 1, tau2: float = 0.0) -> pd.DataFrame:
    """Smooth control limits (as %) for n = n_min..n_max: interpolated exact binomial
    when ``tau2`` is 0, additive random-effects limits when it is positive."""
    n = np.arange(max(n_min, 1), max(n_max, n_min + 1) + 1)
    target = np.full(len(n), p)
    out = pd.DataFrame({"n": n})
    for label, (level, _dash) in LIMITS.items():
        tail = (1 - level) / 2
        for side, q in (("lower", tail), ("upper", 1 - tail)):
            limit = (
                random_effects_limit(target, n, q, tau2) if tau2 > 0 else funnel_limit(target, n, q)
            )
            out[f"{side}_{label}"] = 100 * limit
    return out


def dispersion_note(d: Dispersion | None) -> str:
    """One plain sentence on the plot's over-dispersion, shown beside it."""
    if d is None or not np.isfinite(d.phi):
        return "Too few local authorities to test for over-dispersion; binomial limits."
    p = "p < 0.001" if d.p_value < 0.001 else f"p = {d.p_value:.3f}"
    if d.overdispersed:
        return (
            f"Over-dispersion φ = {d.phi:.1f} ({p}): local authorities vary more than chance "
            "alone would give, so the limits are widened (random effects)."
        )
    return f"Over-dispersion φ = {d.phi:.1f} ({p}): not significant; binomial limits."


def dispersion_label(d: Dispersion | None) -> str:
    """The short form drawn inside the chart (the full sentence is in its description)."""
    if d is None or not np.isfinite(d.phi):
        return "Binomial limits (too few LAs to test over-dispersion)"
    p = "p < 0.001" if d.p_value < 0.001 else f"p = {d.p_value:.2f}"
    if d.overdispersed:
        return f"φ = {d.phi:.1f}, {p}: limits widened for over-dispersion"
    return f"φ = {d.phi:.1f}, {p}: no over-dispersion, binomial limits"


def _step_path(xs, ys) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return pts


@dataclass
class FunnelBase:
    """The parts of a funnel plot shared by every LA page (limits, points, axes)."""

    scale: Scale
    body: list[str]
    england_rate: float
    n_points: int
    dispersion: Dispersion | None = None

    @property
    def note(self) -> str:
        return dispersion_note(self.dispersion)


def funnel_base(points: pd.DataFrame, england_rate: float, xlabel: str) -> FunnelBase:
    """``points``: columns n (cohort size), rate (%) for every LA with a published rate."""
    n_max = int(max(points["n"].max() if len(points) else 10, 10) * 1.05)
    y_hi = max(float(points["rate"].max()) if len(points) else 0, england_rate * 2, 10)
    y_hi = min(100.0, np.ceil(y_hi / 10) * 10)
    scale = Scale(0, n_max, 0, y_hi)
    body = _axes(scale, xlabel, "Re-entry rate (%)")
    # England's rate of 0% or 100% gives degenerate limits (no variation): none drawn.
    spread = None
    limits = None
    if 0 < england_rate < 100:
        # From the plotted (published) figures, so the limits drawn match the points.
        n = points["n"].to_numpy(dtype=float)
        spread = dispersion(points["rate"].to_numpy(dtype=float) / 100 * n, n, england_rate / 100)
        limits = funnel_curves(england_rate / 100, n_max, 5, spread.tau2)
    xs = scale.x(limits["n"]) if limits is not None else []
    for label, (_level, dash) in LIMITS.items() if limits is not None else []:
        for side in ("lower", "upper"):
            ys = scale.y(np.clip(limits[f"{side}_{label}"], 0, y_hi))
            body.append(
                f'<polyline points="{_step_path(xs, ys)}" fill="none" stroke="{GREY}" '
                f'stroke-width="1.5" stroke-dasharray="{dash}"/>'
            )
    ey = float(scale.y(england_rate))
    body.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ey:.1f}" y2="{ey:.1f}" stroke="{INK}" stroke-width="1.5"/>'
    )
    px, py = scale.x(points["n"]), scale.y(points["rate"])
    body.append(
        "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="none" stroke="{BLUE}" stroke-width="1.5"/>'
            for x, y in zip(px, py, strict=True)
        )
    )
    return FunnelBase(scale, body, england_rate, len(points), spread)


def _legend_funnel(highlight_label: str | None) -> list[str]:
    y = TOP + 10
    x = WIDTH - RIGHT - 226
    step = 21
    items = [
        f'<rect x="{x - 8}" y="{y - 14}" width="232" height="{step * (5 if highlight_label else 4) + 6}" fill="#ffffff" stroke="#b1b4b6"/>',
        f'<line x1="{x}" x2="{x + 24}" y1="{y}" y2="{y}" stroke="{INK}" stroke-width="1.5"/><text x="{x + 30}" y="{y + 5}">England rate</text>',
        f'<line x1="{x}" x2="{x + 24}" y1="{y + step}" y2="{y + step}" stroke="{GREY}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{x + 30}" y="{y + step + 5}">95% limits</text>',
        f'<line x1="{x}" x2="{x + 24}" y1="{y + 2 * step}" y2="{y + 2 * step}" stroke="{GREY}" stroke-width="1.5" stroke-dasharray="2 3"/><text x="{x + 30}" y="{y + 2 * step + 5}">99.8% limits</text>',
        f'<circle cx="{x + 12}" cy="{y + 3 * step}" r="3.5" fill="none" stroke="{BLUE}" stroke-width="1.5"/><text x="{x + 30}" y="{y + 3 * step + 5}">A local authority</text>',
    ]
    if highlight_label:
        label = highlight_label if len(highlight_label) <= 22 else highlight_label[:21] + "…"
        items.append(
            f'<path d="M{x + 12} {y + 4 * step - 7} l6 7 l-6 7 l-6 -7 z" fill="{HIGHLIGHT}"/>'
            f'<text x="{x + 30}" y="{y + 4 * step + 5}">{escape(label)}</text>'
        )
    return items


def funnel_svg(
    base: FunnelBase,
    chart_id: str,
    title: str,
    desc: str,
    highlight: tuple[float, float, str] | None = None,
) -> str:
    """The funnel plot, optionally with one LA drawn as a labelled red diamond."""
    body = list(base.body)
    if highlight is not None:
        n, rate, label = highlight
        x, y = float(base.scale.x(n)), float(base.scale.y(rate))
        body.append(
            f'<path d="M{x:.1f} {y - 8:.1f} l8 8 l-8 8 l-8 -8 z" fill="{HIGHLIGHT}" stroke="{INK}" stroke-width="1"/>'
        )
    body += _legend_funnel(highlight[2] if highlight else None)
    label = dispersion_label(base.dispersion)
    body.append(f'<text x="{LEFT + 6}" y="{TOP + 14}">{escape(label)}</text>')
    return _svg(chart_id, title, f"{desc} {base.note}", body)


SERIES_STYLE = [
    (INK, "", "circle"),
    (BLUE, "6 4", "square"),
    (ORANGE, "2 3", "triangle"),
    (GREY, "8 3 2 3", "diamond"),
]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 5:.1f} l5 9 l-10 0 z" fill="{colour}"/>'
    return f'<path d="M{x:.1f} {y - 5:.1f} l5 5 l-5 5 l-5 -5 z" fill="{colour}"/>'


def trend_svg(
    years: list[int],
    series: dict[str, list[float | None]],
    chart_id: str,
    title: str,
    desc: str,
    ylabel: str = "Re-entry rate (%)",
    intervals: dict[str, list[tuple[float, float] | None]] | None = None,
) -> str:
    """Lines over cohort years; None (a suppressed or unavailable figure) breaks the line.

    ``intervals`` draws a 95% confidence interval as a vertical bar at each point of the
    named series. The legend is stacked in the space kept free above the lines, so long
    names never overlap one another."""
    intervals = intervals or {}
    values = [v for vals in series.values() for v in vals if v is not None]
    values += [hi for bars in intervals.values() for b in bars if b is not None for hi in b]
    y_hi = max(values + [10.0])
    legend_rows = len(series)
    y_hi = min(100.0, np.ceil(y_hi * (1.1 + 0.1 * legend_rows) / 10) * 10)
    x0, x1 = (min(years) - 0.5, max(years) + 0.5) if years else (0, 1)
    scale = Scale(x0, x1, 0, y_hi)
    body = _axes(scale, "Cohort year (year ending 31 March)", ylabel, xfmt=lambda v: f"{v:.0f}")
    for i, (name, vals) in enumerate(series.items()):
        colour, dash, shape = SERIES_STYLE[i % len(SERIES_STYLE)]
        for yr, bar in zip(years, intervals.get(name, [None] * len(years)), strict=True):
            if bar is None:
                continue
            x = float(scale.x(yr))
            ya, yb = float(scale.y(bar[0])), float(scale.y(bar[1]))
            body.append(
                f'<path d="M{x:.1f} {ya:.1f} V{yb:.1f} M{x - 5:.1f} {ya:.1f} h10 '
                f'M{x - 5:.1f} {yb:.1f} h10" stroke="{colour}" stroke-width="1.5" fill="none"/>'
            )
        segment: list[str] = []
        segments = []
        for yr, v in zip(years, vals, strict=True):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{float(scale.x(yr)):.1f},{float(scale.y(v)):.1f}")
            body.append(_marker(shape, float(scale.x(yr)), float(scale.y(v)), colour))
        if segment:
            segments.append(segment)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for seg in segments:
            body.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            )
        lx, ly = LEFT + 12, TOP + 10 + i * 21
        shown = name if len(name) <= 40 else name[:39] + "…"
        body.append(
            f'<line x1="{lx}" x2="{lx + 26}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            + _marker(shape, lx + 13, ly, colour)
            + f'<text x="{lx + 34}" y="{ly + 5}">{escape(shown)}</text>'
        )
    return _svg(chart_id, title, desc, body)


@dataclass(frozen=True)
class IntervalRow:
    label: str
    rate: float
    lower: float
    upper: float
    emphasis: bool = False


def interval_svg(rows: list[IntervalRow], chart_id: str, title: str, desc: str) -> str:
    """One row per area: its rate as a dot with its 95% confidence interval as a bar,
    areas named on the left (the LAIT view of an LA beside its neighbours)."""
    row_h, left, top = 30, 250, 16
    height = top + row_h * max(len(rows), 1) + 56
    hi = max([r.upper for r in rows] + [10.0])
    hi = min(100.0, float(np.ceil(hi * 1.1 / 10) * 10))

    def x(v: float) -> float:
        return left + v / hi * (WIDTH - left - RIGHT)

    body = []
    bottom = top + row_h * len(rows)
    for t in _ticks(0, hi):
        body.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{bottom}" stroke="#b1b4b6"/>'
            f'<text x="{x(t):.1f}" y="{bottom + 20}" text-anchor="middle">{t:.0f}</text>'
        )
    body.append(
        f'<text x="{(left + WIDTH - RIGHT) / 2:.0f}" y="{bottom + 44}" text-anchor="middle">'
        "Re-entry rate (%) with 95% confidence interval</text>"
    )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        colour = HIGHLIGHT if r.emphasis else INK
        weight = ' font-weight="700"' if r.emphasis else ""
        label = r.label if len(r.label) <= 26 else r.label[:25] + "…"
        body.append(
            f'<text x="{left - 10}" y="{y + 5:.1f}" text-anchor="end"{weight}>{escape(label)}</text>'
            f'<line x1="{x(r.lower):.1f}" x2="{x(r.upper):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x(r.rate):.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
        )
    return _svg_sized(chart_id, title, desc, body, height)


def scatter_svg(
    points: pd.DataFrame,
    chart_id: str,
    title: str,
    desc: str,
    xlabel: str,
    highlight: tuple[float, float, str] | None = None,
) -> str:
    """Points (columns x, y, both %) with one optionally drawn as a red diamond."""
    xs = points["x"].astype(float) if len(points) else pd.Series([0.0])
    ys = points["y"].astype(float) if len(points) else pd.Series([0.0])
    scale = Scale(
        0,
        min(100.0, float(np.ceil(max(xs.max(), 10) * 1.1 / 10) * 10)),
        0,
        min(100.0, float(np.ceil(max(ys.max(), 10) * 1.1 / 10) * 10)),
    )
    body = _axes(scale, xlabel, "Re-entry rate (%)", xfmt=lambda v: f"{v:.0f}")
    body.append(
        "".join(
            f'<circle cx="{float(scale.x(a)):.1f}" cy="{float(scale.y(b)):.1f}" r="3.5" '
            f'fill="none" stroke="{BLUE}" stroke-width="1.5"/>'
            for a, b in zip(points["x"], points["y"], strict=True)
        )
    )
    if highlight is not None:
        a, b, _label = highlight
        px, py = float(scale.x(a)), float(scale.y(b))
        body.append(
            f'<path d="M{px:.1f} {py - 8:.1f} l8 8 l-8 8 l-8 -8 z" fill="{HIGHLIGHT}" stroke="{INK}" stroke-width="1"/>'
        )
    return _svg(chart_id, title, desc, body)


def _svg_sized(chart_id: str, title: str, desc: str, body: list[str], height: int) -> str:
    return _svg(chart_id, title, desc, body).replace(
        f'viewBox="0 0 {WIDTH} {HEIGHT}"', f'viewBox="0 0 {WIDTH} {height}"', 1
    )
