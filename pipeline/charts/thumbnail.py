"""A figure's thumbnail small enough for the Dagster UI to show on the asset page itself.

Dagster 1.13 renders a Markdown metadata value inline in the asset's metadata table only
when it is shorter than 1000 characters (``MetadataEntry.tsx``: ``mdStr.length < 1000``);
a longer one hides behind a ``[Show Markdown]`` link. A PNG of the whole figure, even at 20
dpi, is 1 300–2 900 characters of base64, so the asset page gets this instead: the chart's
columns (or the pie) in the figure's colours, without text, as a 4-bit PNG of a few hundred
bytes; the full figure stays one click away (``preview``) and on disk (``path``).
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from . import figures, style

MARKDOWN_INLINE_LIMIT = 1000  # characters; Dagster shows shorter Markdown inline
SIZES = ((360, 100), (300, 84), (240, 68), (180, 50))  # tried in turn until it fits
WHITE, AXIS = (255, 255, 255), style.GRID_COLOUR


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _series_colours(spec: figures.FigureSpec, table: pd.DataFrame) -> list[str]:
    return [style.year_colour(int(c)) if str(c).isdigit() else style.category_colour(0)
            for c in table.columns]


def _draw(spec: figures.FigureSpec, table: pd.DataFrame, size: tuple[int, int]) -> bytes:
    width, height = size
    values = table.to_numpy(dtype=float)
    if spec.kind == figures.REASONS_TOTAL:
        colours = [style.category_colour(i) for i in range(len(table))]
    elif spec.kind == figures.YEARLY:
        colours = [style.year_colour(int(y)) for y in table.index]
    else:
        colours = _series_colours(spec, table)
    palette = [WHITE, _rgb(AXIS), *(_rgb(c) for c in dict.fromkeys(colours))]
    index = {c: i + 2 for i, c in enumerate(dict.fromkeys(colours))}
    image = Image.new("P", size, 0)
    image.putpalette([v for rgb in palette for v in rgb])
    draw = ImageDraw.Draw(image)
    if spec.kind == figures.REASONS_TOTAL:  # a pie, largest share first from the top
        shares = np.nan_to_num(values[:, 0])
        total, start = shares.sum() or 1.0, -90.0
        box = [(width - height) / 2, 1, (width + height) / 2 - 2, height - 2]
        for share, colour in zip(shares, colours, strict=True):
            end = start + 360 * share / total
            draw.pieslice(box, start, end, fill=index[colour])
            start = end
    else:
        top = np.nanmax(values) if np.isfinite(values).any() else 1.0
        rows, series = values.shape
        slot = width / max(rows, 1)
        bar = slot * 0.8 / max(series, 1)
        draw.line([(0, height - 1), (width, height - 1)], fill=1)
        for i in range(rows):
            for j in range(series):
                v = values[i, j]
                if math.isnan(v) or v <= 0:
                    continue
                x0 = i * slot + slot * 0.1 + j * bar
                y0 = height - 2 - v / (top * 1.05) * (height - 4)
                colour = colours[i] if spec.kind == figures.YEARLY else colours[j]
                draw.rectangle([x0, y0, x0 + max(bar - 1, 0), height - 2],
                               fill=index[colour])
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True, bits=4)
    return buf.getvalue()


def thumbnail_markdown(spec: figures.FigureSpec, data: pd.DataFrame) -> str:
    """``![kuvio_8](data:image/png;base64,…)`` shorter than Dagster's inline limit."""
    table = figures.chart_table(spec, data, "fi")
    for size in SIZES:
        text = (f"![{spec.id}](data:image/png;base64,"
                f"{base64.b64encode(_draw(spec, table, size)).decode()})")
        if len(text) < MARKDOWN_INLINE_LIMIT:
            return text
    return f"`{spec.id}`: {len(table)} categories (no thumbnail fits the inline limit)"
