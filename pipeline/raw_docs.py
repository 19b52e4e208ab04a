"""Comments for the raw layer's tables and columns that their readers leave undocumented.

The README promises that every table and column of the published warehouse carries a comment
(``select * from duckdb_columns()``, ``python -m pipeline dictionary``). The staging and mart
models document themselves from their ``.yml``; the readers create the raw tables and document
some of them. What they leave without a comment is described here and written into the working
database just before it is published: only where a column has no comment yet, so a reader's
own text always wins. ``tests/test_readme.py`` fails when a new raw column has neither.
"""

from __future__ import annotations

from .models import sql_literal

LINEAGE = {
    "load_id": "Lataus — the load that read the file (audit.load_log.load_id).",
    "loaded_at": "Latausaika — when the file was loaded (UTC).",
    "file": "Tiedosto — the raw file, relative to the raw folder (tem/…, kela/…, statfin/…).",
    "file_sha256": "SHA-256 of the file's content: which version of the file the row is from.",
    "place": "Paikka — where in the file the value is: 'Raportti!F59' (sheet and cell), "
             "'line 12, field 3' (CSV) or 'line 12' (a Kela CSV row).",
}

KELA_MEASURE_SYMBOL = ("The statistical symbol Kela wrote instead of {what} ('..' not "
                       "available, '.' not applicable, '-' nil …); NULL when it is a number.")

# table -> (table comment, {column: comment})
RAW_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "raw.kela_municipal_share": (
        "Kela's open data on the municipal share of the labour market subsidy "
        "(työmarkkinatuen kuntaosuus, data.csv): one row per line of each loaded file and "
        "version, typed, with the line it came from. Monthly rows are dated by billing month.",
        {
            "aikatyyppi": "Aikatyyppi — Kuukausi (the month), Vuosi (the year) or "
                          "Vuosikertymä (year to date).",
            "kuukausi_nro": "Kuukauden numero — 1–12.",
            "vuosikuukausi": "Vuosikuukausi — YYYYMM, the billing month (the month after "
                             "payment).",
            "vuosi": "Vuosi — the year.",
            "kunta_nro": "Kunnan numero — Statistics Finland's municipality number as written "
                         "(564); 199 = unknown or a group under 4 persons.",
            "kunta_nimi": "Kunnan nimi — the municipality's name as written; Tuntematon "
                          "with 199.",
            "ikaryhma": "Ikäryhmä — age group (17-19 … 65-67, Tieto puuttuu) or Yhteensä.",
            "sukupuoli": "Sukupuoli — Mies, Nainen, Tuntematon or Yhteensä.",
            "tyomarkkinatukipaiva_luokka": "Työmarkkinatukipäivät — days of subsidy received: "
                                           "300-499, 500-999, 1000 tai yli, or Yhteensä.",
            "saaja_lkm": "Saajat — recipients (persons).",
            "korvattu_paiva_lkm": "Korvatut päivät — compensated days (negative for refunds).",
            "maksettu_eur": "Maksettu — subsidy paid, euros (negative for refunds).",
            "kunta_osuus_eur": "Kunnan osuus — the municipality's share, euros (negative for "
                               "refunds).",
            "saaja_lkm_symbol": KELA_MEASURE_SYMBOL.format(what="saaja_lkm"),
            "korvattu_paiva_lkm_symbol": KELA_MEASURE_SYMBOL.format(what="korvattu_paiva_lkm"),
            "maksettu_eur_symbol": KELA_MEASURE_SYMBOL.format(what="maksettu_eur"),
            "kunta_osuus_eur_symbol": KELA_MEASURE_SYMBOL.format(what="kunta_osuus_eur"),
            "line": "Rivi — the line of the CSV file (the header is line 1).",
            **LINEAGE,
        }),
    "raw.tem_report_cells": (
        "Every data cell of the loaded TEM Työnvälitystilasto reports (1208, 1356, 4253, "
        "TTV15), narrow: one row per area, month, breakdown and measure, with the file and "
        "cell it came from.",
        {
            "report": "Raportti — the report number: 1208, 1356, 4253 or TTV15.",
            "area": "Alue — the area as written ('564 Oulu').",
            "month": "Kuukausi — the month as written ('2021M01').",
            "breakdown": "Erittely — TTV15: the ending reason (päättymissyy) as written; NULL "
                         "for the other reports.",
            "measure": "Mittari — the column label as written ('Pitkäaikaistyöttömät').",
            "value": "Arvo — the number; NULL when the cell holds a statistical symbol.",
            "symbol": "Symboli — '...' confidential, '..' not available, '.' not applicable, "
                      "'-' nil; NULL when the cell holds a number.",
            **LINEAGE,
        }),
    "raw.tem_report_files": (
        "One row per loaded TEM report file and version: what the reader found in it (report, "
        "title, extraction date, format, header) and how many rows and cells it held.",
        {
            "report": "Raportti — the report number read from the title (1208, 1356, 4253, "
                      "TTV15).",
            "title": "Otsikko — the report's title line as written.",
            "extracted_on": "Poimittu — the extraction date the file states: which vintage "
                            "of the figures it holds.",
            "file_format": "Muoto — xlsx or csv.",
            "encoding": "Merkistö — the CSV file's text encoding (cp1252, utf-8 …); NULL for "
                        "xlsx.",
            "sheet": "Taulukko — the xlsx sheet read; NULL for csv.",
            "header_place": "Otsikkorivi — where the header row is ('Raportti!A5', "
                            "'line 4, field 1').",
            "notes": "Huomautukset — the lines before the header and after the data (source, "
                     "footnotes, a synthetic-data note).",
            "data_rows": "Datarivit — data rows read.",
            "cells": "Solut — data cells read (rows × measures).",
            **LINEAGE,
        }),
    "raw.statfin_files": (
        "",
        {
            "matrix": "MATRIX as written in the file.",
            "codepage": "CODEPAGE as written in the file (the text encoding).",
            "language": "LANGUAGE of the file's default texts (fi).",
            "title": "TITLE of the table in the default language.",
            "stub": "STUB — the variables down the side, in order.",
            "heading": "HEADING — the variables across the top, in order.",
            "first_month": "Ensimmäinen kuukausi — the first month the file holds (2019M01).",
            "last_month": "Viimeinen kuukausi — the last month the file holds.",
            "last_updated": "LAST-UPDATED as written in the file.",
            "load_id": LINEAGE["load_id"],
            "loaded_at": LINEAGE["loaded_at"],
            "file": LINEAGE["file"],
            "file_sha256": LINEAGE["file_sha256"],
        }),
    "raw.statfin_values": (
        "",
        {
            "file_key": "Tiedoston avain — raw.statfin_files.file_key of the file.",
            "table_id": "TABLEID as written in the file.",
            "variable": "Muuttuja — the variable's name as written (Alue, Kuukausi, Tiedot …).",
            "column_name": "The column holding the variable's code in raw.statfin_<dataset>.",
            "position": "Järjestys — the value's 0-based position among the variable's values.",
            "code": "Koodi — the value's code (KU564, 2024M11, TYOTTOMAT …).",
            "label": "Nimi — the value's label in the file's default language.",
            "load_id": LINEAGE["load_id"],
            "file": LINEAGE["file"],
            "file_sha256": LINEAGE["file_sha256"],
        }),
    "raw.statfin_variables": (
        "",
        {
            "file_key": "Tiedoston avain — raw.statfin_files.file_key of the file.",
            "table_id": "TABLEID as written in the file.",
            "variable": "Muuttuja — the variable's name as written (Alue, Kuukausi, Tiedot …).",
            "load_id": LINEAGE["load_id"],
            "file": LINEAGE["file"],
            "file_sha256": LINEAGE["file_sha256"],
        }),
}


def document_raw(con) -> int:
    """Write the comments above where a raw table or column has none; returns how many."""
    have = {(t, c): bool(comment) for t, c, comment in con.execute(
        "select schema_name || '.' || table_name, column_name, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'raw'").fetchall()}
    tables = {t: bool(comment) for t, comment in con.execute(
        "select schema_name || '.' || table_name, comment from duckdb_tables() "
        "where database_name = current_database() and schema_name = 'raw'").fetchall()}
    written = 0
    for table, (description, columns) in RAW_DOCS.items():
        if table not in tables:
            continue
        if description and not tables[table]:
            con.execute(f"comment on table {table} is {sql_literal(description)}")
            written += 1
        for column, text in columns.items():
            if (table, column) in have and not have[(table, column)]:
                con.execute(f"comment on column {table}.{column} is {sql_literal(text)}")
                written += 1
    return written
