"""The report's charts: Altair specs rendered to PNG by vl-convert (no browser), as data URIs."""

from __future__ import annotations

import base64

import altair as alt
import pandas as pd
import vl_convert as vlc

TONE_COLOURS = {
    "constructive": "#2a9d8f",
    "neutral": "#a8b0b8",
    "hostile": "#d1495b",
    "not judged": "#e9c46a",
}
_FONT = "DejaVu Sans"


def _png_uri(chart: alt.Chart) -> str:
    spec = chart.configure(font=_FONT).configure_view(stroke=None).to_dict()
    png = vlc.vegalite_to_png(spec, scale=2)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _tone_colour(order: list[str]) -> alt.Color:
    present = [t for t in TONE_COLOURS if t in order]
    return alt.Color(
        "tone:N",
        scale=alt.Scale(domain=present, range=[TONE_COLOURS[t] for t in present]),
        legend=alt.Legend(title=None, orient="bottom"),
        sort=present,
    )


def tone_trend_chart(per_day: pd.DataFrame) -> str:
    """Posts per day of the week, stacked by tone."""
    frame = per_day.assign(day=per_day["day"].dt.strftime("%a %d %b"))
    days = list(dict.fromkeys(frame["day"]))
    tones = list(frame["tone"].unique())
    order = {t: i for i, t in enumerate(TONE_COLOURS)}
    frame = frame.assign(order=frame["tone"].map(order))
    chart = (
        alt.Chart(frame, width=560, height=200)
        .mark_bar()
        .encode(
            x=alt.X("day:N", sort=days, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("posts:Q", title="posts"),
            color=_tone_colour(tones),
            order=alt.Order("order:Q"),
        )
    )
    return _png_uri(chart)


def camp_tone_chart(camps: pd.DataFrame) -> str:
    """Each camp's tone mix (shares of the posts the model judged), one bar per camp."""
    rows = [
        {"camp": f"{c.label} ({c.size})", "tone": tone, "share": getattr(c, f"share_{tone}") or 0.0}
        for c in camps.itertuples()
        for tone in ("constructive", "neutral", "hostile")
    ]
    frame = pd.DataFrame(rows)
    order = {t: i for i, t in enumerate(TONE_COLOURS)}
    frame["order"] = frame["tone"].map(order)
    chart = (
        alt.Chart(frame, width=420, height=max(60, 28 * len(camps)))
        .mark_bar()
        .encode(
            y=alt.Y(
                "camp:N", sort=list(dict.fromkeys(frame["camp"])), title=None, axis=alt.Axis(labelLimit=320)
            ),
            x=alt.X(
                "share:Q",
                title="share of judged posts",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=_tone_colour(["constructive", "neutral", "hostile"]),
            order=alt.Order("order:Q"),
        )
    )
    return _png_uri(chart)
