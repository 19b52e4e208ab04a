"""Municipalities and the groups of them (alueet): the one place where membership is defined.

Codes are Statistics Finland municipality codes in StatFin's form (``KU564``). TEM reports
write ``564 Oulu`` and Kela ``564``; staging turns both into ``KU564``.
"""

from __future__ import annotations

# The eight municipalities of the Oulu-region employment pilot (Oulun seudun työllisyyden
# kuntakokeilu, 2021–2024).
PILOT_MUNICIPALITIES: dict[str, str] = {
    "KU564": "Oulu",
    "KU244": "Kempele",
    "KU494": "Muhos",
    "KU139": "Ii",
    "KU425": "Liminka",
    "KU436": "Lumijoki",
    "KU859": "Tyrnävä",
    "KU072": "Hailuoto",
}

PILOT_AREA = "pilot_area"

# Groups of municipalities: area code -> (Finnish name, member codes).
AREA_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    PILOT_AREA: ("Kuntakokeilualue (Oulun seutu)", tuple(PILOT_MUNICIPALITIES)),
}


def municipality_code(number: str | int) -> str:
    """``564``, ``'072'`` or ``'564 Oulu'`` -> ``KU564``."""
    text = str(number).strip().split(" ", 1)[0]
    if text.upper().startswith("KU"):
        text = text[2:]
    if not text.isdigit() or len(text) > 3:
        raise ValueError(f"not a municipality code: {number!r}")
    return "KU" + text.zfill(3)


def area_member_rows() -> list[tuple[str, str, str]]:
    """(area_code, area_name, municipality_code) for every group: ``staging.area_members``."""
    return [
        (code, name, member)
        for code, (name, members) in sorted(AREA_GROUPS.items())
        for member in members
    ]
