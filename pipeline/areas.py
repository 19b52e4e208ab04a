"""Municipalities and the groups of them (alueet): the one place where membership is defined.

Codes are Statistics Finland municipality codes in StatFin's form (``KU564``). TEM reports
write ``564 Oulu`` and Kela ``564``; staging turns both into ``KU564``.
"""

from __future__ import annotations

import re
import threading

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
# Only the areas whose members a public source names were added (the others are not
# guessed); 43 of the 45. Sources:
#   TA_OULU        the City of Oulu / BusinessOulu on the 11-municipality area it leads
#                  (munoulu.fi, 2023; kempele.fi);
#   TA_ETELAINEN_KESKI_SUOMI  the areas' cooperation agreement (Jämsä vastuukunta);
#   TA_ETELA_SATAKUNTA        Huittinen's council decision (Rauma vastuukunta; alueviesti.fi);
#   TA_SATAKUNTA   Pori's TE24 page (the rest of Satakunta; Pori vastuukunta);
#   TA_HANKO_INKOO_RAASEPORI  the area's name in TEM's exemption decisions (kt.fi, 2023);
#   TA_HELSINKI, TA_VANTAA, TA_LAHTI, TA_KOUVOLA  the four municipalities that organise the
#                  services alone (valtioneuvosto.fi, 22.2.2024);
#   the others: the municipalities' cooperation agreements (yhteistoimintasopimus), council
#   decisions, the Government's decision of 22.2.2024 (tem.fi/paatos?decisionId=884) and the
#   areas' own pages:
#     TA_ESPOO_KAUNIAINEN        https://tyomarkkinatori.fi/en/news/mita-kuuluu-espoon-ja-kauniaisten-tyollisyysalueelle
#     TA_KERAVA_SIPOO            https://www.kerava.fi/tyo-ja-yrittaminen/keravan-ja-sipoon-tyollisyysalue/
#     TA_KIRKKONUMMI_VIHTI_SIUNTIO https://kirkkonummi.fi/kirkkonummi-vihti-ja-siuntio-jarjestavat-yhdessa-alueen-tyovoimapalvelut-vuoden-2025-alusta/
#     TA_PORVOO                  https://www.loviisa.fi/sv/nyheter/namnden-for-borga-sysselsattningsomrade-sammantrader-forsta-gangen-19-6-2024/
#     TA_TURKU                   https://lawinsider.com/fi/contracts/f0D5NNYh2fR
#     TA_SALO                    https://www.somerolehti.fi/2025/02/kiva-kun-olette-taalla
#     TA_TYOHAME                 https://www.hameenlinna.fi/yleinen/tyohameen-tyollisyysalue-paasee-jatkamaan-valmistelua/
#     TA_ETELA_HAME              https://www.janakkala.fi/en/news/the-municipalities-of-southern-hame-are-addressing-employment-issues-at-the-seutusummit-meeting
#     TA_LANTINEN_PIRKANMAA      https://lawinsider.com/fi/contracts/kkh3jHFUijz
#     TA_PAIJAT_HAME             https://hollola.fi/tyo-ja-yrittaminen/yrityspalvelut/tyonantajalle-ja-rekrytoijalle/paijat-hameen-tyollisyysalue-2025/
#     TA_ETELA_KYMENLAAKSO       https://www.kotka.fi/2024/07/etela-kymenlaakson-tyollisyysalueen-valmistelutyo-etenee/
#     TA_YLA_SAVO                https://julkaisu.iisalmi.fi/ktwebscr/fileshow?docid=781876&doctype=7
#     TA_POHJOIS_KARJALA         https://lawinsider.com/fi/contracts/a8ZhbMiTEmV
#     TA_POHJOINEN_KESKI_SUOMI   https://lawinsider.com/fi/contracts/cSrIu1V3oGc
#     TA_KYMPPI                  https://vimpeli.fi/node/1056
#     TA_SUUPOHJA                https://tem.fi/paatos?decisionId=884
#     TA_POHJANMAA               https://www.vaasa.fi/en/news/valtioneuvosto-vahvisti-pohjanmaan-tyollisyysalueen/
#     TA_KESKI_POHJANMAA         https://tem.fi/paatos?decisionId=884
#     TA_KESKI_UUSIMAA           https://www.mantsala.fi/ajankohtaista/keski-uudellamaalla-etenee-kuuden-kunnan-suunnitelma-yhteisesta-tyollisyysalueesta/
#     TA_LOHJA_KARKKILA          https://www.sttinfo.fi/tiedote/71716720/vuosi-2026-tuo-tyollisyyspalveluihin-muutoksia?lang=fi
#     TA_JYVASKYLA               https://www.muurame.fi/muurame-ja-jyvaskyla-perustamassa-tyollisyysalueen/
#     TA_MIKKELI                 https://lawinsider.com/fi/contracts/2Aiuyroj0XP
#     TA_RAAHE                   https://lawinsider.com/fi/contracts/5peHIKEV6sv
#     TA_YLIVIESKA_KALAJOKI_NIVALA https://lawinsider.com/fi/contracts/j2dtCb1kO4W
#     TA_MERI_LAPPI              https://tornio.fi/ajankohtaista/te-palvelut-siirtyvat-pian-kuntiin-enaa-100-paivaa-uudistukseen
#     TA_TUNTURI_LAPPI_PELLO     https://muonio.cloudnc.fi/fi-FI/content/9904/12415
#     TA_ROVASEUTU               https://rovaniemi.cloudnc.fi/fi-FI/content/209588/24111
#     TA_POHJOIS_JA_ITA_LAPPI    https://lawinsider.com/fi/contracts/d2XKox62IJN
#     TA_ETELA_KARJALA           https://lappeenranta.fi/fi/ajankohtaista/etela-karjalan-tyollisyysalue-valmistautuu-te-palvelujen-siirtoon-1-1-2025-lappeenrannan-johdolla
#                                ("johon kuuluvat kaikki maakunnan kunnat": the region's nine)
#     TA_KESKI_SAVO              https://mikkeli.fi/2023/10/27/te2024-e-savo-hankkeen-blogi-etela-savon-tyollisyysalueet-muodostumassa/
#                                (Pieksämäki with Varkaus), https://www.mdi.fi/en/references/support-for-the-preparation-of-the-te-services-2024-reform-for-the-municipalities-of-keski-savo/
#                                (Joroinen, Leppävirta)
#     TA_SAVONLINNA              the same mikkeli.fi page (the joint application of the four);
#                                https://sulkavalehti.fi/2024/10/17/17390
#     TA_TAMPERE                 https://lawinsider.com/fi/contracts/kT7Eoz2cgss (the agreement,
#                                approved 15.4. and 20.5.2024, lists all 16)
#     TA_KAINUU_KOILLISMAA       https://www.kajaani.fi/tiedotteet/kainuu-koillismaan-tyollisyysalueen-jarjestamissuunnitelma-ja-yhteistyosopimus-hyvaksytty-yksimielisesti-kunnissa/
#                                ("kattaa koko Kainuun sekä Kuusamon kaupungin ja Taivalkosken
#                                kunnan"); https://radiopooki.fi/uutiset/lappi/a-229521
#     TA_SEINAJOKI               https://www.seinajoki.fi/blogi/seinajoki-ilmajoki-ja-isokyro-valmistelevat-yhteisen-tyollisyysalueen/
# The official names of TA_KIRKKONUMMI_VIHTI_SIUNTIO, TA_LOHJA_KARKKILA, TA_JYVASKYLA,
# TA_MIKKELI and TA_SEINAJOKI were not found (their members were). TA_JYVASKYLA,
# TA_SEINAJOKI, TA_SAVONLINNA and Joroinen and Leppävirta in TA_KESKI_SAVO rest on sources
# of the preparation phase (2023).
# Not yet verified, so not listed (2 areas): Kuopion työllisyysalue (Pohjois-Savo has three
# areas, Pohjois-Savon ELY 2/2024; Kuopio's members are not named) and Pietarsaaren
# työllisyysalue (its exemption, kt.fi 21.11.2023; members not named).
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
    "TA_ESPOO_KAUNIAINEN": ("Espoon ja Kauniaisten työllisyysalue", (
        "KU049", "KU235")),
        # Espoo, Kauniainen
    "TA_KERAVA_SIPOO": ("Keravan ja Sipoon työllisyysalue", (
        "KU245", "KU753")),
        # Kerava, Sipoo
    "TA_KIRKKONUMMI_VIHTI_SIUNTIO": ("Kirkkonummen, Vihdin ja Siuntion työllisyysalue", (
        "KU257", "KU927", "KU755")),
        # Kirkkonummi, Vihti, Siuntio
    "TA_PORVOO": ("Porvoon työllisyysalue", (
        "KU638", "KU018", "KU407", "KU434", "KU504", "KU616")),
        # Porvoo, Askola, Lapinjärvi, Loviisa, Myrskylä, Pukkila
    "TA_TURKU": ("Turun työllisyysalue", (
        "KU853", "KU019", "KU202", "KU322", "KU304", "KU400", "KU423", "KU430", "KU481",
        "KU503", "KU529", "KU538", "KU561", "KU577", "KU445", "KU631", "KU636", "KU680",
        "KU704", "KU738", "KU833", "KU895", "KU918")),
        # Turku, Aura, Kaarina, Kemiönsaari, Kustavi, Laitila, Lieto, Loimaa, Masku, Mynämäki,
        # Naantali, Nousiainen, Oripää, Paimio, Parainen, Pyhäranta, Pöytyä, Raisio, Rusko, Sauvo,
        # Taivassalo, Uusikaupunki, Vehmaa
    "TA_SALO": ("Salon työllisyysalue", (
        "KU734", "KU761", "KU284", "KU480")),
        # Salo, Somero, Koski Tl, Marttila
    "TA_TYOHAME": ("TyöHämeen työllisyysalue", (
        "KU109", "KU061", "KU082", "KU834", "KU169", "KU103", "KU981")),
        # Hämeenlinna, Forssa, Hattula, Tammela, Jokioinen, Humppila, Ypäjä
    "TA_ETELA_HAME": ("Etelä-Hämeen työllisyysalue", (
        "KU694", "KU165", "KU086", "KU433")),
        # Riihimäki, Janakkala, Hausjärvi, Loppi
    "TA_LANTINEN_PIRKANMAA": ("Läntisen Pirkanmaan työllisyysalue", (
        "KU790", "KU108", "KU143", "KU250", "KU581", "KU619")),
        # Sastamala, Hämeenkyrö, Ikaalinen, Kihniö, Parkano, Punkalaidun
    "TA_PAIJAT_HAME": ("Päijät-Hämeen työllisyysalue", (
        "KU016", "KU081", "KU111", "KU098", "KU142", "KU316", "KU560", "KU576", "KU781")),
        # Asikkala, Hartola, Heinola, Hollola, Iitti, Kärkölä, Orimattila, Padasjoki, Sysmä
    "TA_ETELA_KYMENLAAKSO": ("Etelä-Kymenlaakson työllisyysalue", (
        "KU285", "KU075", "KU624", "KU489", "KU935")),
        # Kotka, Hamina, Pyhtää, Miehikkälä, Virolahti
    "TA_YLA_SAVO": ("Ylä-Savon työllisyysalue", (
        "KU140", "KU263", "KU595", "KU762", "KU925")),
        # Iisalmi, Kiuruvesi, Pielavesi, Sonkajärvi, Vieremä
    "TA_POHJOIS_KARJALA": ("Pohjois-Karjalan työllisyysalue", (
        "KU167", "KU090", "KU146", "KU176", "KU260", "KU276", "KU422", "KU426", "KU541",
        "KU309", "KU607", "KU707", "KU848")),
        # Joensuu, Heinävesi, Ilomantsi, Juuka, Kitee, Kontiolahti, Lieksa, Liperi, Nurmes,
        # Outokumpu, Polvijärvi, Rääkkylä, Tohmajärvi
    "TA_POHJOINEN_KESKI_SUOMI": ("Pohjoisen Keski-Suomen työllisyysalue", (
        "KU992", "KU077", "KU216", "KU226", "KU256", "KU265", "KU275", "KU312", "KU410",
        "KU601", "KU729", "KU892", "KU931")),
        # Äänekoski, Hankasalmi, Kannonkoski, Karstula, Kinnula, Kivijärvi, Konnevesi, Kyyjärvi,
        # Laukaa, Pihtipudas, Saarijärvi, Uurainen, Viitasaari
    "TA_KYMPPI": ("Kuntayhtymä Kympin työllisyysalue", (
        "KU005", "KU010", "KU052", "KU233", "KU300", "KU403", "KU408", "KU759", "KU934",
        "KU989")),
        # Alajärvi, Alavus, Evijärvi, Kauhava, Kuortane, Lappajärvi, Lapua, Soini, Vimpeli, Ähtäri
    "TA_SUUPOHJA": ("Suupohjan työllisyysalue", (
        "KU151", "KU218", "KU846", "KU232", "KU287", "KU301")),
        # Isojoki, Karijoki, Teuva, Kauhajoki, Kristiinankaupunki, Kurikka
    "TA_POHJANMAA": ("Pohjanmaan työllisyysalue", (
        "KU905", "KU893", "KU946", "KU499", "KU399", "KU475", "KU545", "KU280", "KU231")),
        # Vaasa, Uusikaarlepyy, Vöyri, Mustasaari, Laihia, Maalahti, Närpiö, Korsnäs, Kaskinen
    "TA_KESKI_POHJANMAA": ("Keski-Pohjanmaan työllisyysalue", (
        "KU272", "KU217", "KU074", "KU421", "KU236", "KU584", "KU849", "KU924")),
        # Kokkola, Kannus, Halsua, Lestijärvi, Kaustinen, Perho, Toholampi, Veteli
    "TA_KESKI_UUSIMAA": ("Keski-Uudenmaan työllisyysalue", (
        "KU186", "KU106", "KU505", "KU543", "KU611", "KU858")),
        # Järvenpää, Hyvinkää, Mäntsälä, Nurmijärvi, Pornainen, Tuusula
    "TA_LOHJA_KARKKILA": ("Lohjan ja Karkkilan työllisyysalue", (
        "KU444", "KU224")),
        # Lohja, Karkkila
    "TA_JYVASKYLA": ("Jyväskylän ja Muuramen työllisyysalue", (
        "KU179", "KU500")),
        # Jyväskylä, Muurame
    "TA_MIKKELI": ("Mikkelin työllisyysalue", (
        "KU491", "KU097", "KU178", "KU213", "KU507", "KU588", "KU623")),
        # Mikkeli, Hirvensalmi, Juva, Kangasniemi, Mäntyharju, Pertunmaa, Puumala
        # (Pieksämäki, in an earlier draft of the agreement, joined Keski-Savo)
    "TA_KESKI_SAVO": ("Keski-Savon työllisyysalue", (
        "KU915", "KU593", "KU171", "KU420")),
        # Varkaus, Pieksämäki, Joroinen, Leppävirta
    "TA_SAVONLINNA": ("Savonlinnan työllisyysalue", (
        "KU740", "KU046", "KU681", "KU768")),
        # Savonlinna, Enonkoski, Rantasalmi, Sulkava
    "TA_TAMPERE": ("Tampereen seudun työllisyysalue", (
        "KU837", "KU020", "KU177", "KU211", "KU291", "KU418", "KU536", "KU562", "KU604",
        "KU635", "KU702", "KU887", "KU908", "KU922", "KU936", "KU980")),
        # Tampere, Akaa, Juupajoki, Kangasala, Kuhmoinen, Lempäälä, Nokia, Orivesi, Pirkkala,
        # Pälkäne, Ruovesi, Urjala, Valkeakoski, Vesilahti, Virrat, Ylöjärvi
    "TA_KAINUU_KOILLISMAA": ("Kainuu-Koillismaan työllisyysalue", (
        "KU205", "KU105", "KU290", "KU578", "KU620", "KU697", "KU765", "KU777", "KU305",
        "KU832")),
        # every municipality of Kainuu (Kajaani vastuukunta): Kajaani, Hyrynsalmi, Kuhmo,
        # Paltamo, Puolanka, Ristijärvi, Sotkamo, Suomussalmi; and Kuusamo, Taivalkoski
    "TA_RAAHE": ("Raahen työllisyysalue", (
        "KU678", "KU069", "KU071", "KU317", "KU563", "KU625", "KU626", "KU630", "KU691",
        "KU748", "KU791")),
        # Raahe, Haapajärvi, Haapavesi, Kärsämäki, Oulainen, Pyhäjoki, Pyhäjärvi, Pyhäntä,
        # Reisjärvi, Siikajoki, Siikalatva
    "TA_YLIVIESKA_KALAJOKI_NIVALA": ("Ylivieskan, Kalajoen ja Nivalan työllisyysalue", (
        "KU977", "KU009", "KU208", "KU483", "KU535", "KU746")),
        # Ylivieska, Alavieska, Kalajoki, Merijärvi, Nivala, Sievi
    "TA_MERI_LAPPI": ("Meri-Lapin työllisyysalue", (
        "KU851", "KU240", "KU241", "KU751", "KU845", "KU976")),
        # Tornio, Kemi, Keminmaa, Simo, Tervola, Ylitornio
    "TA_TUNTURI_LAPPI_PELLO": ("Tunturi-Lapin ja Pellon työllisyysalue", (
        "KU261", "KU047", "KU273", "KU498", "KU854")),
        # Kittilä, Enontekiö, Kolari, Muonio, Pello
    "TA_ROVASEUTU": ("Rovaseudun työllisyysalue", (
        "KU698", "KU683")),
        # Rovaniemi, Ranua
    "TA_POHJOIS_JA_ITA_LAPPI": ("Pohjois- ja Itä-Lapin työllisyysalue", (
        "KU758", "KU148", "KU320", "KU583", "KU614", "KU732", "KU742", "KU890")),
        # Sodankylä, Inari, Kemijärvi, Pelkosenniemi, Posio, Salla, Savukoski, Utsjoki
    "TA_ETELA_KARJALA": ("Etelä-Karjalan työllisyysalue", (
        "KU405", "KU153", "KU416", "KU441", "KU580", "KU689", "KU700", "KU739", "KU831")),
        # every municipality of the region (Lappeenranta vastuukunta): Lappeenranta, Imatra,
        # Lemi, Luumäki, Parikkala, Rautjärvi, Ruokolahti, Savitaipale, Taipalsaari
    "TA_SEINAJOKI": ("Seinäjoen, Ilmajoen ja Isokyrön työllisyysalue", (
        "KU743", "KU145", "KU152")),
        # Seinäjoki, Ilmajoki, Isokyrö
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
    """``564``, ``'072'``, ``'ku564'`` or ``'564 Oulu'`` -> ``KU564``: the warehouse's one
    normaliser, the SQL macro ``marts.municipality_code`` (sql/macros.sql), so Python and
    the models cannot disagree. A ValueError for anything that is not a municipality."""
    code = _normaliser().execute("select marts.municipality_code(?)",
                                 [str(number)]).fetchall()[0][0]
    if not re.fullmatch(r"KU\d{3}", code or ""):
        raise ValueError(f"not a municipality code: {number!r}")
    return code


_LOCK = threading.Lock()


def _normaliser():
    """A cursor on an in-memory DuckDB holding the macros (one per call: thread-safe)."""
    global _MACROS_DB
    with _LOCK:
        if _MACROS_DB is None:
            import duckdb

            from .models import MACROS_SQL

            con = duckdb.connect()
            con.execute("create schema marts")
            con.execute(MACROS_SQL.read_text(encoding="utf-8"))
            _MACROS_DB = con
        return _MACROS_DB.cursor()


_MACROS_DB = None


def area_member_rows() -> list[tuple[str, str, str]]:
    """(area_code, area_name, municipality_code) for every group: ``staging.area_members``."""
    return [
        (code, name, member)
        for code, (name, members) in sorted(AREA_GROUPS.items())
        for member in members
    ]
