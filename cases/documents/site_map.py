"""The small site map on decision documents: the site, the protection zones and the lines around it.

The map is drawn in a local azimuthal equidistant projection centred on the site, so distances
read off the scale bar are true metres at any latitude (Web Mercator would stretch a site at
69.6° N almost threefold) and grid north is true north at the site. Everything is clipped to the
frame with shapely before drawing, so a zone kilometres long costs no more than the part shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import shapely
from pyproj import Transformer
from reportlab.graphics.shapes import (
    FILL_EVEN_ODD,
    Circle,
    Drawing,
    Line,
    Path,
    Polygon,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors
from reportlab.lib.units import cm
from shapely.geometry.base import BaseGeometry

__all__ = ["MapFrame", "MapLabels", "legend_drawing", "local_frame", "round_scale_length", "site_map_drawing"]

MAP_SIZE = 8 * cm
MIN_MARGIN_M = 50.0  # at least this much ground around the site, so the nearest line usually shows
MARGIN_FRACTION = 0.25  # and a quarter of the site's own extent for large sites

ZONE_FILL = colors.Color(0.85, 0.1, 0.1)
ZONE_FILL_OPACITY = 0.3
ZONE_EDGE = colors.Color(0.75, 0.05, 0.05)
LINE_COLOUR = colors.Color(0.12, 0.12, 0.12)
SITE_COLOUR = colors.Color(0.0, 0.25, 0.85)
FONT_SIZE = 7


@dataclass(frozen=True)
class MapLabels:
    """The map's wording, taken from the document template (never fixed in code)."""

    north: str
    scale: str  # format string with {length}, e.g. "{length} m"
    zone: str
    line: str
    site: str


@dataclass(frozen=True)
class MapFrame:
    """The projected square shown on the map: `to_local` projects lon/lat to metres around the site."""

    to_local: Transformer
    min_x: float
    min_y: float
    side_m: float

    def project(self, geom: BaseGeometry) -> BaseGeometry:
        """Project an EPSG:4326 geometry into the frame's metric projection."""
        return shapely.transform(geom, self.to_local.transform, interleaved=False)

    def clip(self, geom: BaseGeometry) -> BaseGeometry:
        """The part of a projected geometry inside the frame."""
        return shapely.clip_by_rect(geom, self.min_x, self.min_y, self.min_x + self.side_m, self.min_y + self.side_m)


def local_frame(site: BaseGeometry, *, min_margin_m: float = MIN_MARGIN_M) -> MapFrame:
    """The square frame around `site` (EPSG:4326): the site's extent plus a margin on every side."""
    if site.is_empty:
        raise ValueError("The site geometry is empty; there is nothing to centre the map on.")
    centre = site.centroid if not site.centroid.is_empty else site.representative_point()
    to_local = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={centre.y:.9f} +lon_0={centre.x:.9f} +datum=WGS84 +units=m +no_defs",
        always_xy=True,
    )
    min_x, min_y, max_x, max_y = shapely.transform(site, to_local.transform, interleaved=False).bounds
    extent = max(max_x - min_x, max_y - min_y)
    half = extent / 2 + max(min_margin_m, extent * MARGIN_FRACTION)
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2
    return MapFrame(to_local=to_local, min_x=cx - half, min_y=cy - half, side_m=2 * half)


def round_scale_length(max_m: float) -> int:
    """The largest 1, 2 or 5 x 10^n metres not longer than `max_m` (at least 1 m)."""
    if max_m < 1:
        return 1
    power = 10 ** math.floor(math.log10(max_m))
    for step in (5, 2, 1):
        if step * power <= max_m:
            return int(step * power)
    return int(power)  # unreachable: 1 x power <= max_m by construction


def _parts(geom: BaseGeometry) -> Iterator[BaseGeometry]:
    """Single-part geometries of any geometry, collections flattened."""
    if geom.is_empty:
        return
    if hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from _parts(part)
    else:
        yield geom


class _Canvas:
    """Maps frame metres to drawing points and adds shapes to the drawing."""

    def __init__(self, drawing: Drawing, frame: MapFrame, size: float) -> None:
        self.drawing = drawing
        self.frame = frame
        self.scale = size / frame.side_m

    def points(self, coords: Sequence[tuple[float, ...]]) -> list[float]:
        flat: list[float] = []
        for x, y, *_ in coords:
            flat += [(x - self.frame.min_x) * self.scale, (y - self.frame.min_y) * self.scale]
        return flat

    def polygon(self, poly: shapely.Polygon, **style: object) -> None:
        path = Path(fillMode=FILL_EVEN_ODD, **style)
        for ring in (poly.exterior, *poly.interiors):
            pts = self.points(ring.coords)
            path.moveTo(pts[0], pts[1])
            for i in range(2, len(pts), 2):
                path.lineTo(pts[i], pts[i + 1])
            path.closePath()
        self.drawing.add(path)

    def line(self, line: shapely.LineString, **style: object) -> None:
        self.drawing.add(PolyLine(self.points(line.coords), **style))

    def marker(self, point: shapely.Point) -> None:
        x, y = self.points(point.coords)
        _site_marker(self.drawing, x, y)

    def add(self, geom: BaseGeometry, *, polygon_style: dict[str, object], line_style: dict[str, object],
            points: bool) -> None:
        for part in _parts(self.frame.clip(self.frame.project(geom))):
            if isinstance(part, shapely.Polygon):
                self.polygon(part, **polygon_style)
            elif isinstance(part, shapely.LineString | shapely.LinearRing):
                self.line(part, **line_style)
            elif points and isinstance(part, shapely.Point):
                self.marker(part)


def _site_marker(drawing: Drawing, x: float, y: float, r: float = 4.0) -> None:
    drawing.add(Circle(x, y, r, fillColor=colors.white, strokeColor=SITE_COLOUR, strokeWidth=1.5))
    drawing.add(Line(x - r * 1.8, y, x + r * 1.8, y, strokeColor=SITE_COLOUR, strokeWidth=0.8))
    drawing.add(Line(x, y - r * 1.8, x, y + r * 1.8, strokeColor=SITE_COLOUR, strokeWidth=0.8))


_ZONE_STYLE: dict[str, object] = {"fillColor": ZONE_FILL, "fillOpacity": ZONE_FILL_OPACITY,
                                  "strokeColor": ZONE_EDGE, "strokeWidth": 0.4}
_LINE_STYLE: dict[str, object] = {"strokeColor": LINE_COLOUR, "strokeWidth": 1.2}
_SITE_AREA_STYLE: dict[str, object] = {"fillColor": None, "strokeColor": SITE_COLOUR, "strokeWidth": 1.6}
_SITE_LINE_STYLE: dict[str, object] = {"strokeColor": SITE_COLOUR, "strokeWidth": 1.6}


def _scale_bar(drawing: Drawing, canvas: _Canvas, labels: MapLabels, font_name: str) -> None:
    length_m = round_scale_length(canvas.frame.side_m * 0.3)
    length_pt = length_m * canvas.scale
    x0, y0 = 8.0, 8.0
    drawing.add(Rect(x0 - 4, y0 - 4, length_pt + 8, FONT_SIZE + 14, fillColor=colors.white, fillOpacity=0.8,
                     strokeColor=None))
    drawing.add(Rect(x0, y0, length_pt / 2, 3, fillColor=colors.black, strokeColor=colors.black, strokeWidth=0.5))
    drawing.add(Rect(x0 + length_pt / 2, y0, length_pt / 2, 3, fillColor=colors.white, strokeColor=colors.black,
                     strokeWidth=0.5))
    drawing.add(String(x0 + length_pt / 2, y0 + 6, labels.scale.format(length=length_m), fontName=font_name,
                       fontSize=FONT_SIZE, textAnchor="middle"))


def _north_arrow(drawing: Drawing, labels: MapLabels, font_name: str, size: float) -> None:
    x, top = size - 14.0, size - 8.0
    drawing.add(Rect(x - 8, top - 32, 16, 32, fillColor=colors.white, fillOpacity=0.8, strokeColor=None))
    drawing.add(Polygon([x, top, x - 5, top - 16, x, top - 12, x + 5, top - 16],
                        fillColor=colors.black, strokeColor=colors.black, strokeWidth=0.5))
    drawing.add(String(x, top - 28, labels.north, fontName=font_name, fontSize=FONT_SIZE + 1, textAnchor="middle"))


def site_map_drawing(
    site: BaseGeometry,
    zones: Sequence[BaseGeometry],
    lines: Sequence[BaseGeometry],
    *,
    labels: MapLabels,
    font_name: str,
    size: float = MAP_SIZE,
    min_margin_m: float = MIN_MARGIN_M,
) -> Drawing:
    """A square map `size` points wide: zones in translucent red, lines dark, the site in blue
    (a marker for a point), with a scale bar in round metres and a north arrow.

    All geometries are EPSG:4326 lon/lat; `zones` and `lines` may be empty.
    """
    frame = local_frame(site, min_margin_m=min_margin_m)
    drawing = Drawing(size, size, initialFontName=font_name)
    drawing.add(Rect(0, 0, size, size, fillColor=colors.Color(0.98, 0.98, 0.96), strokeColor=None))
    canvas = _Canvas(drawing, frame, size)
    for zone in zones:
        canvas.add(zone, polygon_style=_ZONE_STYLE, line_style=_LINE_STYLE, points=False)
    for line in lines:
        canvas.add(line, polygon_style=_LINE_STYLE | {"fillColor": None}, line_style=_LINE_STYLE, points=False)
    canvas.add(site, polygon_style=_SITE_AREA_STYLE, line_style=_SITE_LINE_STYLE, points=True)
    _scale_bar(drawing, canvas, labels, font_name)
    _north_arrow(drawing, labels, font_name, size)
    drawing.add(Rect(0, 0, size, size, fillColor=None, strokeColor=colors.black, strokeWidth=0.8))
    return drawing


def legend_drawing(labels: MapLabels, *, font_name: str, width: float = 4.5 * cm) -> Drawing:
    """The key to the map's three symbols, drawn beside it."""
    row = 16.0
    drawing = Drawing(width, 3 * row, initialFontName=font_name)
    text_x = 26.0
    y = 2 * row + 4
    drawing.add(Rect(2, y - 2, 18, 9, fillColor=ZONE_FILL, fillOpacity=ZONE_FILL_OPACITY, strokeColor=ZONE_EDGE,
                     strokeWidth=0.4))
    drawing.add(String(text_x, y, labels.zone, fontName=font_name, fontSize=FONT_SIZE + 1))
    y -= row
    drawing.add(Line(2, y + 2.5, 20, y + 2.5, **_LINE_STYLE))
    drawing.add(String(text_x, y, labels.line, fontName=font_name, fontSize=FONT_SIZE + 1))
    y -= row
    _site_marker(drawing, 11, y + 2.5, r=3.0)
    drawing.add(String(text_x, y, labels.site, fontName=font_name, fontSize=FONT_SIZE + 1))
    return drawing
