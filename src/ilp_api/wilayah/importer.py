"""Read a Kemendagri code list (CSV of ``code,name``; dots in codes are allowed) and check it whole."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from ilp_api.ilp.wilayah import wilayah_problem


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str


def parse_wilayah_csv(lines: Iterable[str]) -> tuple[list[tuple[str, str]], list[ImportProblem]]:
    """Entries and problems; a header row (``code,name`` or ``kode,nama``) is skipped."""
    entries: dict[str, str] = {}
    problems = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or (number == 1 and row[0].strip().lower() in {"code", "kode"}):
            continue
        if len(row) < 2 or not row[1].strip():
            problems.append(ImportProblem(number, "expected two columns: code,name"))
            continue
        code, name = row[0].strip().replace(".", ""), row[1].strip()
        problem = wilayah_problem(code)
        if problem:
            problems.append(ImportProblem(number, f"{row[0]}: {problem}"))
        elif code in entries:
            problems.append(ImportProblem(number, f"{row[0]}: duplicate code"))
        else:
            entries[code] = name
    for code in entries:
        parent = code[: {4: 2, 6: 4, 10: 6}.get(len(code), 0)]
        if parent and parent not in entries:
            problems.append(ImportProblem(0, f"{code}: its parent {parent} is not in the file"))
    return sorted(entries.items()), problems
