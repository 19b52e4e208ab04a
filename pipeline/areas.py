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

# Employment areas (työllisyysalueet) from 1.1.2025, when the TE services reform
# (TE-palvelut 2024 -uudistus) moved public employment services to municipalities: 45 areas
# in all, each a single municipality (Helsinki, Vantaa, Lahti, Kouvola …) or a group of them
# with a responsible municipality (vastuukunta). Codes are ``TA_`` + the area's name in
# ASCII capitals (TA_OULU = Oulun seudun työllisyysalue); ``python -m pipeline export --area
# TA_OULU`` draws the figures for one.
#
# Only the areas whose members could be verified from public sources are listed (the
# others are not guessed):
#   TA_OULU        the City of Oulu / BusinessOulu on the 11-municipality area it leads
#                  (munoulu.fi, 2023);
#   TA_ETELAINEN_KESKI_SUOMI  the areas' cooperation agreement (Jämsä vastuukunta);
#   TA_ETELA_SATAKUNTA        Huittinen's council decision (Rauma vastuukunta; alueviesti.fi);
#   TA_SATAKUNTA   Pori's TE24 page (the rest of Satakunta; Pori vastuukunta);
#   TA_HANKO_INKOO_RAASEPORI  the area's name in TEM's exemption decisions (kt.fi, 2023);
#   TA_HELSINKI, TA_VANTAA, TA_LAHTI, TA_KOUVOLA  the four municipalities that organise the
#                  services alone (valtioneuvosto.fi, 22.2.2024).
# Still to add when verified: the other 36 areas (e.g. Kainuu-Koillismaa, Tampereen seutu,
# Turun seutu, Jyväskylän seutu, Kuopion seutu, Pohjois-Karjala, Lappi's areas …).
EMPLOYMENT_AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "TA_OULU": ("Oulun seudun työllisyysalue", (
        "KU564", "KU072", "KU139", "KU244", "KU425", "KU436", "KU494", "KU615", "KU859",
        "KU889", "KU785")),  # Oulu, Hailuoto, Ii, Kempele, Liminka, Lumijoki, Muhos,
                             # Pudasjärvi, Tyrnävä, Utajärvi, Vaala
    "TA_ETELAINEN_KESKI_SUOMI": ("Eteläisen Keski-Suomen työllisyysalue", (
        "KU182", "KU172", "KU249", "KU435", "KU495", "KU508", "KU592", "KU850")),
        # Jämsä, Joutsa, Keuruu, Luhanka, Multia, Mänttä-Vilppula, Petäjävesi, Toivakka
    "TA_ETELA_SATAKUNTA": ("Etelä-Satakunnan työllisyysalue", (
        "KU684", "KU050", "KU051", "KU102", "KU783")),
        # Rauma, Eura, Eurajoki, Huittinen, Säkylä
    "TA_SATAKUNTA": ("Satakunnan työllisyysalue", (
        "KU609", "KU079", "KU181", "KU214", "KU230", "KU271", "KU484", "KU531", "KU608",
        "KU747", "KU886")),
        # Pori, Harjavalta, Jämijärvi, Kankaanpää, Karvia, Kokemäki, Merikarvia, Nakkila,
        # Pomarkku, Siikainen, Ulvila
    "TA_HANKO_INKOO_RAASEPORI": ("Hanko-Inkoo-Raaseporin työllisyysalue", (
        "KU078", "KU149", "KU710")),
    "TA_HELSINKI": ("Helsingin työllisyysalue", ("KU091",)),
    "TA_VANTAA": ("Vantaan työllisyysalue", ("KU092",)),
    "TA_LAHTI": ("Lahden työllisyysalue", ("KU398",)),
    "TA_KOUVOLA": ("Kouvolan työllisyysalue", ("KU286",)),
}

# Groups of municipalities: area code -> (Finnish name, member codes). The one place where
# membership is defined: staging.area_members, the marts' group rows and --area read it.
AREA_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    PILOT_AREA: ("Kuntakokeilualue (Oulun seutu)", tuple(PILOT_MUNICIPALITIES)),
    **EMPLOYMENT_AREAS,
}


def group_code(text: str) -> str | None:
    """A group's code as written in AREA_GROUPS for ``text`` in any case (``ta_oulu`` ->
    ``TA_OULU``, ``PILOT_AREA`` -> ``pilot_area``), or None."""
    wanted = text.strip().lower()
    return next((code for code in AREA_GROUPS if code.lower() == wanted), None)


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
