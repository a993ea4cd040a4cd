"""The geometry of the staff dashboard's charts (SPEC §8): inline SVG drawn by templates, no script, nothing fetched.

Each function takes figures with their links and returns what the templates under
templates/admin/dashboard/ draw: coordinates in the chart's viewBox, already written as
strings (number localisation must never reach SVG attributes), and each bar's label.
"""

import math
from collections.abc import Sequence
from decimal import Decimal

from django.utils.dateformat import format as date_format

# The daily chart: one column per day, revenue bars above order bars, in a 1200-wide viewBox.
DAILY_WIDTH = 1200
DAILY_LEFT = 64  # room for the scale's labels
DAILY_RIGHT = 8
REVENUE_TOP, REVENUE_HEIGHT = 26, 150
ORDERS_TOP, ORDERS_HEIGHT = 218, 90
DAY_LABELS_Y = ORDERS_TOP + ORDERS_HEIGHT + 16
DAILY_HEIGHT = DAY_LABELS_Y + 18
BAR_SHARE = 0.7  # of a day's column; the rest is the gap between bars
ZERO_BAR = 1.5  # a day without any: a stub on the baseline, so the day still reads as counted

# The ranked charts (payment outcomes, top products): a row per bar in a 420-wide viewBox,
# its label beside the bar or (long ones) above it.
RANKED_WIDTH = 420
RANKED_LABEL_WIDTH = 172
RANKED_VALUE_WIDTH = 76  # room after the longest bar for its figure
RANKED_ROW = 30
RANKED_ROW_LABELLED = 42
RANKED_LABEL_ABOVE = 18
RANKED_BAR_HEIGHT = 18
LABEL_CHARACTERS = 22  # what fits in the label column at the chart's font size
LONG_LABEL_CHARACTERS = 56  # what fits across the chart


def _n(value: float) -> str:
    """Write a coordinate for an SVG attribute: one decimal, always a point."""
    return f"{value:.1f}"


def nice_scale(largest: float, ticks: int = 4) -> tuple[float, list[float]]:
    """Return the top of a scale holding `largest`, and its ticks from zero by steps of 1, 2 or 5 x 10^n."""
    rough = max(largest, 1) / ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    step = max(step, 1)
    top = max(math.ceil(largest / step), 1) * step
    return top, [step * i for i in range(round(top / step) + 1)]


def compact(value: float) -> str:
    """Write a scale label briefly: 950, 1,500, 15k, 2.5M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:,.0f}"


def _band(tone: str, title: str, top: float, height: float, values: Sequence[float], columns: list[dict]) -> dict:
    """Lay out one band of the daily chart: its scale and a bar per column."""
    scale_top, ticks = nice_scale(max(values, default=0))
    baseline = top + height
    column = (DAILY_WIDTH - DAILY_LEFT - DAILY_RIGHT) / len(columns)
    bars = []
    for i, (value, spec) in enumerate(zip(values, columns, strict=True)):
        bar_height = height * value / scale_top if value else ZERO_BAR
        bars.append(
            {
                "x": _n(DAILY_LEFT + column * (i + (1 - BAR_SHARE) / 2)),
                "y": _n(baseline - bar_height),
                "width": _n(column * BAR_SHARE),
                "height": _n(bar_height),
                "zero": not value,
                "hit_x": _n(DAILY_LEFT + column * i),
                "hit_width": _n(column),
                **spec,
            }
        )
    return {
        "tone": tone,
        "title": title,
        "title_y": _n(top - 10),
        "top": _n(top),
        "height": _n(height),
        "baseline": _n(baseline),
        "ticks": [
            {"y": _n(baseline - height * tick / scale_top), "label": compact(tick), "zero": not tick} for tick in ticks
        ],
        "bars": bars,
    }


def daily_chart(days: list[dict], currency: str) -> dict:
    """Lay out the revenue and orders of each day (oldest first), each bar linking to that day's orders.

    Each day is a dict with `day`, `orders`, `revenue`, `orders_url` and `revenue_url`; the
    last one is today.
    """
    revenue_bars = [
        {
            "url": day["revenue_url"],
            "label": f"{date_format(day['day'], 'D j M')}: {day['revenue']:,.2f} {currency} revenue "
            f"(orders confirmed or further along)",
        }
        for day in days
    ]
    order_bars = [
        {
            "url": day["orders_url"],
            "label": f"{date_format(day['day'], 'D j M')}: {counted(day['orders'], 'order')} placed",
        }
        for day in days
    ]
    column = (DAILY_WIDTH - DAILY_LEFT - DAILY_RIGHT) / len(days)
    labels = []
    for i, day in enumerate(days):
        first_of_month = i == 0 or day["day"].day == 1
        labels.append(
            {
                "x": _n(DAILY_LEFT + column * (i + 0.5)),
                "text": date_format(day["day"], "j M") if first_of_month else f"{day['day'].day}",
                "today": i == len(days) - 1,
                "weekend": day["day"].weekday() >= 5,
            }
        )
    weekends = []  # one band per run of Saturday and Sunday, so no seam shows between them
    for i, day in enumerate(days):
        if day["day"].weekday() < 5:
            continue
        if weekends and weekends[-1]["end"] == i:
            weekends[-1]["end"] = i + 1
        else:
            weekends.append({"start": i, "end": i + 1})
    weekends = [
        {"x": _n(DAILY_LEFT + column * run["start"]), "width": _n(column * (run["end"] - run["start"]))}
        for run in weekends
    ]
    return {
        "width": DAILY_WIDTH,
        "height": DAILY_HEIGHT,
        "left": DAILY_LEFT,
        "right": DAILY_WIDTH - DAILY_RIGHT,
        "labels_y": DAY_LABELS_Y,
        "weekend_y": REVENUE_TOP,
        "weekend_height": ORDERS_TOP + ORDERS_HEIGHT - REVENUE_TOP,
        "weekends": weekends,
        "labels": labels,
        "bands": [
            _band(
                "revenue",
                f"Revenue ({currency})",
                REVENUE_TOP,
                REVENUE_HEIGHT,
                [float(day["revenue"]) for day in days],
                revenue_bars,
            ),
            _band("orders", "Orders placed", ORDERS_TOP, ORDERS_HEIGHT, [day["orders"] for day in days], order_bars),
        ],
    }


def counted(number: int, noun: str) -> str:
    """Write `number` with its noun, plural unless one: "1 order", "1,204 orders"."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def clip(text: str, characters: int = LABEL_CHARACTERS) -> str:
    """Shorten `text` to `characters`, ending with an ellipsis when cut."""
    return text if len(text) <= characters else text[: characters - 1].rstrip() + "…"


def ranked_chart(rows: list[dict], *, labels_above: bool = False) -> dict:
    """Lay out one horizontal bar per row, longest for the largest `value`.

    Each row is a dict with `label`, `value`, `value_text`, `url` and `title`, and
    optionally `label_url` and `tone` (a CSS class for the bar's colour). Short labels sit
    beside their bars; long ones (`labels_above`) above them, across the chart.
    """
    if labels_above:
        row_height, bar_x, bar_top, characters = RANKED_ROW_LABELLED, 0, RANKED_LABEL_ABOVE, LONG_LABEL_CHARACTERS
    else:
        row_height, bar_x, bar_top, characters = RANKED_ROW, RANKED_LABEL_WIDTH, 0, LABEL_CHARACTERS
    longest = RANKED_WIDTH - bar_x - RANKED_VALUE_WIDTH
    bar_top += (row_height - bar_top - RANKED_BAR_HEIGHT) / 2
    largest = max((row["value"] for row in rows), default=0) or 1
    laid_out = []
    for i, row in enumerate(rows):
        bar_width = longest * row["value"] / largest if row["value"] else ZERO_BAR
        top = i * row_height
        laid_out.append(
            {
                **row,
                "short_label": clip(str(row["label"]), characters),
                "label_y": _n(top + (RANKED_LABEL_ABOVE - 5 if labels_above else bar_top + RANKED_BAR_HEIGHT - 5)),
                "y": _n(top + bar_top),
                "value_y": _n(top + bar_top + RANKED_BAR_HEIGHT - 5),
                "hit_y": _n(top + (RANKED_LABEL_ABOVE if labels_above else 0)),
                "bar_width": _n(bar_width),
                "value_x": _n(bar_x + bar_width + 6),
                "zero": not row["value"],
            }
        )
    return {
        "width": RANKED_WIDTH,
        "height": max(len(rows), 1) * row_height,
        "bar_x": bar_x,
        "bar_height": RANKED_BAR_HEIGHT,
        "hit_width": RANKED_WIDTH - bar_x,
        "hit_height": row_height - (RANKED_LABEL_ABOVE if labels_above else 0),
        "rows": laid_out,
    }


def share(part: int, whole: int) -> str:
    """Write `part` as a whole percentage of `whole` (0% of nothing)."""
    return f"{Decimal(100 * part) / whole:.0f}%" if whole else "0%"
