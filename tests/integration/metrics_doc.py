"""docs/metrics.md as data: {family: {"type": str, "labels": {label: set(values) or None}}}.

A row of a table whose first cell names `aksnode_...` metrics is a family. In the labels cell,
`name` (`a`, `b`) is a closed set of values; `name` followed by anything else in parentheses,
or by nothing, has open values (None). Used by agent_metrics_doc_test.py (the doc against the
real agent) and by tests/deploy/check_manifests.py (alerts and dashboard against the doc).
"""
import os
import re

DOC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "metrics.md"))
_LABEL = re.compile(r"`([a-z_]+)`(?:\s*\(([^()]*)\))?")


def _cells(row: str) -> list:
    # Split on | outside backticks (a value such as `a|b` would otherwise split a cell).
    cells, cur, tick = [], "", False
    for ch in row.strip().strip("|"):
        if ch == "`":
            tick = not tick
        if ch == "|" and not tick:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
    cells.append(cur.strip())
    return cells


def parse(text: str) -> dict:
    fams: dict = {}
    for row in text.splitlines():
        if not row.startswith("| `aksnode_"):
            continue
        cells = _cells(row)
        if len(cells) < 3:
            raise ValueError(f"docs/metrics.md: short row {row!r}")
        names = re.findall(r"`(aksnode_[a-z_]+)`", cells[0])
        labels: dict = {}
        for m in _LABEL.finditer(cells[2]):
            name, vals = m.group(1), m.group(2)
            closed = vals is not None and re.sub(r"`[^`]*`", "", vals).strip(" ,") == "" and "`" in vals
            labels[name] = set(re.findall(r"`([^`]+)`", vals)) if closed else None
        for n in names:
            if n in fams:
                raise ValueError(f"docs/metrics.md: {n} documented twice")
            fams[n] = {"type": cells[1], "labels": labels}
    return fams


def load(path: str = DOC) -> dict:
    with open(path) as f:
        return parse(f.read())
