"""A photo's facts in words, as the details panel writes them (no Qt here).

Units as photographers read them: "1/250 s", "f/4", "ISO 400", "50 mm (75 mm
in 35 mm terms)", "6000 × 4000 (24.0 MP)", "12.3 MB", "24 Dec 2021, 18:00
(UTC+01:00)", "48.85837° N, 2.29448° E".
"""

from __future__ import annotations

from datetime import datetime

from clipdesk.core.metadata import Position, Shot

def human_size(n: int | None) -> str:
    """Bytes as "2.1 KB", "12.3 MB" (powers of 1000, as file managers show them)."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return str(n)


def human_date(taken: str | None, source: str | None, offset: str | None = None) -> str:
    """"24 Dec 2021, 18:00", the time-zone offset when the photo states one
    ("(UTC+01:00)"), "(file date)" when the date is only the file's."""
    if not taken:
        return ""
    try:
        text = datetime.fromisoformat(taken).strftime("%d %b %Y, %H:%M")
    except ValueError:
        text = taken
    if offset:
        text += f" (UTC{offset})"
    return text + (" (file date)" if source == "file" else "")


def exposure(shot: Shot) -> str:
    """"1/250 s · f/4 · ISO 400" from what the photo states."""
    parts = []
    t = shot.exposure_time
    if t is not None:
        parts.append(f"1/{round(1 / t):,} s" if t < 0.3 else f"{t:g} s")
    if shot.f_number is not None:
        parts.append(f"f/{shot.f_number:.3g}")
    if shot.iso is not None:
        parts.append(f"ISO {shot.iso:,}")
    return " · ".join(parts)


def focal_length(shot: Shot) -> str:
    """"50 mm" and its 35 mm equivalent when the photo states it."""
    if shot.focal_length is None:
        return f"{shot.focal_length_35mm:g} mm in 35 mm terms" if shot.focal_length_35mm else ""
    text = f"{shot.focal_length:.3g} mm"
    if shot.focal_length_35mm and abs(shot.focal_length_35mm - shot.focal_length) >= 0.5:
        text += f" ({shot.focal_length_35mm:g} mm in 35 mm terms)"
    return text


def dimensions(width: int | None, height: int | None) -> str:
    """"6000 × 4000 (24.0 MP)"."""
    if not width or not height:
        return ""
    mp = width * height / 1e6
    return f"{width:,} × {height:,}" + (f" ({mp:.1f} MP)" if mp >= 0.1 else "")


def place(position: Position) -> str:
    """"48.85837° N, 2.29448° E" and the altitude when known."""
    lat, lon = position.latitude, position.longitude
    text = f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"
    if position.altitude is not None:
        text += f", {position.altitude:,.0f} m"
    return text


def geo_url(position: Position) -> str:
    """The position as a ``geo:`` URI (RFC 5870), what map apps open."""
    return f"geo:{position.latitude:.6f},{position.longitude:.6f}"


def web_map_url(position: Position) -> str:
    """The position on OpenStreetMap, for a system with no ``geo:`` handler."""
    lat, lon = position.latitude, position.longitude
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=16/{lat:.6f}/{lon:.6f}"

