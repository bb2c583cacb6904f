"""CMS's MSSP results, PY2013-2024, as one row per ACO-year linked across years.

Reads the PUF copies shipped in ``simsuite/data/mssp`` (`simsuite.data.reference.mssp_file`;
their README gives provenance, md5 sums, column meanings and the known data problems) and
returns each ACO-year with:

* ``sr``: the savings rate, percentage points of the benchmark,
  ``100 BnchmkMinExp / ABtotBnchmk`` (the harmonised panel; its ``sav_rate_calc`` is this
  ratio). The 166 ACOs with a six-month (January-June) PY2019 carry totals pro-rated by
  one half in both, so their rate is unaffected (``six_month_2019`` flags them: their
  ``ABtotBnchmk / (UpdatedBnchmk x person-years)`` is 0.5);
* ``link_id``: one identity per ACO across years (``link_stage`` says how it was found):

  - PY2018-2024: the CMS ``ACO_ID``;
  - PY2013-2014: the pre-2018 ``ACO_Num``, mapped to ``ACO_ID`` by the crosswalk
    (``derived/aco_id_crosswalk_samstearns.csv``; every row maps);
  - PY2015-2017: the harmonised panel keys these years by ACO *name* (the derived file
    has no ID for them; data README). A row takes the ``ACO_ID`` of another year with the
    same normalised name, the same first agreement start date and, where both are known,
    a common state; among several, the one whose size in an adjacent year is closest.
    One ``ACO_ID`` serves at most one row a year (the closest in size keeps it). Rows
    still unlinked are linked among themselves by normalised name (``NAME:...``), as
    ``shared/reference/multiyear.md`` section 8 item 7 describes;
* ``agreement_start``: the start date of the agreement period the year belongs to:
  ``Current_Start_Date`` (PY2016-2024), the PUF ``Start Date`` (PY2013-2014, every ACO
  then in its first agreement) and, for PY2015 (no agreement column), the ACO's first
  start date (no agreement was renewed before 1 January 2016);
* ``agreement_number`` (1 = first agreement) and ``year_in_agreement`` (0 = the first
  performance year of that agreement in the data).

Plain pandas (it comes with xarray); deterministic.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from simsuite.data.reference import mssp_file

if TYPE_CHECKING:
    import pandas as pd

#: The shipped PUF files this module reads (paths under ``simsuite/data/mssp``).
PANEL = "derived/mssp_financial_panel_2013_2024.csv"
ALL_YEARS = "derived/mssp_all_years_2013_2021_samstearns.csv"
CROSSWALK = "derived/aco_id_crosswalk_samstearns.csv"
RAW = {year: f"raw/mssp_puf_py{year}.csv" for year in (2013, 2014, 2018, 2022, 2023, 2024)}

_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
    "guam": "GU",
}
# Legal-form and filler words dropped from names before comparing them.
_FILLER = {"llc", "inc", "l", "c", "pllc", "pc", "p", "corp", "corporation", "co", "company", "ltd", "lp", "llp",
           "the", "dba", "d", "b", "a", "an", "of"}


def normalised_name(name: object) -> str:
    """An ACO name compared across years: lower case, '&' as 'and', 'accountable care
    organization' as 'aco', punctuation and legal-form words dropped."""
    s = str(name).lower().replace("&", " and ")
    s = s.replace("accountable care organization", "aco").replace("accountable care organisation", "aco")
    s = re.sub(r"[^a-z0-9 ]", " ", s)
    return " ".join(w for w in s.split() if w not in _FILLER)


def _states(text: object) -> frozenset[str]:
    """The two-letter states of a PUF state field (names or codes, comma separated)."""
    if not isinstance(text, str):
        return frozenset()
    parts = (t.strip() for t in re.split(r"[,;/]", text))
    return frozenset(t.upper() if len(t) == 2 else _STATES.get(t.lower(), t.upper()) for t in parts if t)


def _dates(values: pd.Series) -> pd.Series:
    """PUF dates (``m/d/yyyy`` or ``m/d/yy``, sometimes with a time) as timestamps."""
    import pandas as pd

    text = values.astype("string").str.strip().str.split(" ").str[0]
    long = pd.to_datetime(text, format="%m/%d/%Y", errors="coerce")
    short = pd.to_datetime(text, format="%m/%d/%y", errors="coerce")
    return long.fillna(short)


def _read(relative: str) -> pd.DataFrame:
    import pandas as pd

    with mssp_file(relative).open("r", encoding="utf-8-sig") as fh:
        return pd.read_csv(fh, low_memory=False)


def _year_attributes(panel: pd.DataFrame) -> pd.DataFrame:
    """Name, states, start dates, agreement number and pro-rating of every panel row, from
    the raw PUF of its year (2013, 2014, 2018, 2022-2024) or the derived all-years file."""
    import pandas as pd

    allyrs = _read(ALL_YEARS)
    cols = ["name", "states", "current_start", "initial_start", "agreement_number"]
    parts = []
    Source = tuple[pd.DataFrame, str, str, "str | None", str, "str | None", "str | None"]
    sources: dict[int, Source] = {  # year: (frame, key, name, state, current start, initial start, agreement number)
        2013: (_read(RAW[2013]), "ACO Identifier", "ACO Name", None, "Start Date", "Start Date", None),
        2014: (_read(RAW[2014]), "ACO_Num", "ACO_NAME", "ACO_State", "Start_Date", "Start_Date", None),
        2018: (_read(RAW[2018]), "ACO_ID", "ACO_Name", "ACO_State", "Current_Start_Date", "Initial_Start_Date",
               "Agreement_Period_Num"),
    }
    for year in (2022, 2023, 2024):
        sources[year] = (_read(RAW[year]), "ACO_ID", "ACO_Name", None, "Current_Start_Date", None,
                         "Agreement_Period_Num")
    for year in (2019, 2020, 2021):
        sources[year] = (allyrs[allyrs.performance_year == year], "aco_id", "aco_name", "aco_state",
                         "current_start_date", "initial_start_date", "agreement_period_num")
    for year, (frame, key, name, state, current, initial, number) in sources.items():
        rows = panel[panel.performance_year == year]
        found = frame.set_index(key).loc[rows.aco_key]
        parts.append(pd.DataFrame({
            "name": found[name].to_numpy(),
            "states": found[state].map(_states).to_numpy() if state else [frozenset()] * len(rows),
            "current_start": _dates(found[current]).to_numpy(),
            "initial_start": _dates(found[initial]).to_numpy() if initial else pd.NaT,
            "agreement_number": found[number].to_numpy(dtype=float) if number else 1.0,
        }, index=rows.index))
    # PY2015-2017: the panel's key is the name; (name, N_AB) is unique in the derived file.
    for year in (2015, 2016, 2017):
        rows = panel[panel.performance_year == year]
        frame = allyrs[allyrs.performance_year == year].set_index(["aco_name", "n_ab"])
        found = frame.loc[list(zip(rows.aco_key, rows.n_ab))]
        parts.append(pd.DataFrame({
            "name": rows.aco_key.to_numpy(),
            "states": found.aco_state.map(_states).to_numpy(),
            "current_start": _dates(found.current_start_date).to_numpy(),
            "initial_start": _dates(found.initial_start_date).to_numpy(),
            "agreement_number": found.agreement_period_num.to_numpy(dtype=float),
        }, index=rows.index))
    out = pd.concat(parts).loc[panel.index, cols]
    # PY2019 six-month ACOs: benchmark total = 1/2 x per capita benchmark x person-years.
    a19 = allyrs[allyrs.performance_year == 2019].set_index("aco_id")
    ratio = a19.abtotbnchmk / (a19.updatedbnchmk * a19.n_ab_year_py)
    six = set(ratio.index[ratio < 0.75])
    out["six_month_2019"] = (panel.performance_year == 2019) & panel.aco_key.isin(six)
    return out


def _first_starts(crosswalk: pd.DataFrame, rows: pd.DataFrame, link: pd.Series) -> dict[str, pd.Timestamp]:
    """Each ACO_ID's first agreement start: the crosswalk's, else the earliest initial or
    current start date any of its rows shows."""
    first = dict(zip(crosswalk.ACO_ID, _dates(crosswalk["ACO.First.Agreement.Start.Date"])))
    known = rows[link.notna()].assign(link=link[link.notna()])
    for aco, group in known.groupby("link"):
        if aco not in first or first[aco] is None or first[aco] != first[aco]:
            dates = group[["initial_start", "current_start"]].stack()
            if len(dates):
                first[aco] = dates.min()
    return first


def linked_panel() -> pd.DataFrame:
    """Every ACO-year of the shipped PUF files, PY2013-2024, linked across years.

    Returns
    -------
    pandas.DataFrame
        One row per ACO-year, sorted by ``link_id`` and year: ``year``, ``link_id``,
        ``link_stage`` (``id``, ``crosswalk``, ``name``, ``name-only``), ``n_ab``
        (assigned beneficiaries), ``sr`` (savings rate, percentage points of the
        benchmark), ``qualscore`` (quality score, fraction), ``updatedbnchmk`` (per capita
        benchmark, dollars; PY2015 on), ``aco_key`` (the harmonised
        panel's key), ``agreement_start``, ``agreement_number``, ``year_in_agreement``,
        ``six_month_2019``, ``name``. See the module docstring for the rules.
    """
    import pandas as pd

    panel = _read(PANEL)
    crosswalk = _read(CROSSWALK)
    rows = panel.join(_year_attributes(panel))
    year = panel.performance_year
    link = panel.aco_key.astype(object).where(year >= 2018, None)
    stage = pd.Series("id", index=panel.index, dtype=object).where(year >= 2018, None)
    early = year.isin([2013, 2014])
    link[early] = panel.aco_key[early].map(dict(zip(crosswalk.ACO_NUM, crosswalk.ACO_ID)))
    stage[early] = "crosswalk"
    if link[early].isna().any():
        raise ValueError("a PY2013-2014 ACO number is missing from the crosswalk")
    rows["norm"] = rows.name.map(normalised_name)
    first = _first_starts(crosswalk, rows, link)
    _link_by_name(rows, link, stage, first)
    rest = link.isna()
    link[rest] = "NAME:" + rows.norm[rest]
    stage[rest] = "name-only"
    for y in (2015, 2016, 2017):  # a name-only id is unique within a year too
        ids = link[(year == y) & rest]
        repeated = ids[ids.duplicated(keep=False)]
        for j, i in enumerate(repeated.index):
            link[i] = f"{link[i]}#{j}"
    rows["link_id"], rows["link_stage"] = link, stage
    if rows.duplicated(["performance_year", "link_id"]).any():
        raise ValueError("an ACO is linked to two rows of one year")
    # Agreement periods. PY2015 has no agreement column: every ACO was in its first.
    first_start = rows.link_id.map(first)
    by_aco = rows.dropna(subset=["initial_start"]).groupby("link_id").initial_start.first()
    first_start = first_start.fillna(rows.link_id.map(by_aco))
    rows["agreement_start"] = rows.current_start.where(year != 2015, first_start)
    rows["agreement_number"] = rows.agreement_number.where(year >= 2016, 1.0)
    rows["sr"] = 100.0 * rows.bnchmkminexp / rows.abtotbnchmk
    out = rows.rename(columns={"performance_year": "year"})[
        ["year", "link_id", "link_stage", "aco_key", "n_ab", "sr", "qualscore", "updatedbnchmk", "agreement_start", "agreement_number",
         "six_month_2019", "name"]].sort_values(["link_id", "year"]).reset_index(drop=True)
    first_year = out.groupby(["link_id", "agreement_start"]).year.transform("min")
    out["year_in_agreement"] = (out.year - first_year).astype("Int64")
    return out


def _link_by_name(rows: pd.DataFrame, link: pd.Series, stage: pd.Series, first: dict) -> None:
    """Link PY2015-2017 rows (keyed by name) to the ACO_ID of a row with the same normalised
    name, a consistent first start date and a common state (the module docstring's rules);
    writes ``link`` and ``stage`` in place."""
    year = rows.performance_year
    known = rows[link.notna()].assign(link=link[link.notna()])
    ids_of_name: dict[str, set[str]] = {}
    states_of: dict[str, set[str]] = {}
    for name, aco, states in zip(known.norm, known.link, known.states):
        ids_of_name.setdefault(name, set()).add(aco)
        states_of.setdefault(aco, set()).update(states)
    size = {(aco, y): n for aco, y, n in zip(known.link, known.performance_year, known.n_ab)}

    def nearest_size(aco: str, y: int) -> float:
        for dy in (1, -1, 2, -2, 3, -3, 4):
            if (aco, y + dy) in size:
                return float(size[(aco, y + dy)])
        return float("nan")

    def plausible(aco: str, row: pd.Series) -> bool:
        start = first.get(aco)
        if start is not None and start == start:
            ok = start == row.initial_start if row.initial_start == row.initial_start else \
                start <= np.datetime64(f"{row.performance_year}-01-01")
            if not ok:
                return False
        other = states_of.get(aco, set())
        return not row.states or not other or bool(row.states & other)

    middle = rows.index[year.isin([2015, 2016, 2017])]
    for i in middle:
        row = rows.loc[i]
        candidates = [aco for aco in ids_of_name.get(row.norm, set()) if plausible(aco, row)]
        if len(candidates) > 1:
            gap = {aco: abs(np.log(row.n_ab / nearest_size(aco, row.performance_year))) for aco in candidates}
            candidates = sorted((a for a in candidates if np.isfinite(gap[a])), key=lambda a: (gap[a], a))[:1]
        if len(candidates) == 1:
            link[i], stage[i] = candidates[0], "name"
    for y in (2015, 2016, 2017):  # one ACO_ID per row and year: the closest in size keeps it
        linked = link[(year == y) & link.notna()]
        for aco in linked[linked.duplicated(keep=False)].unique():
            claimants = linked.index[linked == aco]
            ref = nearest_size(aco, y)
            keep = min(claimants, key=lambda i: abs(np.log(rows.n_ab[i] / ref)) if ref == ref else 0.0)
            for i in claimants:
                if i != keep:
                    link[i], stage[i] = None, None
