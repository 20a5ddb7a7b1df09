"""Judges a kosoku report folder: per-group counts, and exit 1 unless all
517 cases of the suite ran (or, given case globs such as `12.*`, every
case of the suite they match) and each is OK or INFORMATIONAL (behavior
and behaviorClose alike) — compression groups 12 and 13 included;
NON-STRICT and UNIMPLEMENTED fail.

Usage: autobahn_report.py FOLDER [CASE_GLOB...]
"""

import collections
import json
import sys
from pathlib import Path

PASSING = {"OK", "INFORMATIONAL"}
EXPECTED_CASES = 517
# How many cases each group of the suite has (the 517).
GROUP_SIZES = {"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126}


def expected(globs) -> int:
    """The cases the globs select: whole groups (`12.*`) or the whole suite."""
    if not globs:
        return EXPECTED_CASES
    groups = [g[: -len(".*")] for g in globs if g.endswith(".*") and g[: -len(".*")] in GROUP_SIZES]
    if len(groups) != len(globs):
        sys.exit(f"autobahn: only whole groups (like 12.*) can be judged, not {globs}")
    return sum(GROUP_SIZES[g] for g in groups)


def main(folder: str, globs) -> int:
    index_path = Path(folder) / "index.json"
    if not index_path.exists():
        print(f"autobahn: no report at {index_path}; see {folder}/kosoku.log")
        return 1
    index = json.loads(index_path.read_text())
    counts = collections.defaultdict(collections.Counter)
    failures = []
    total = 0
    for agent, cases in index.items():
        for case, result in cases.items():
            group = case.split(".")[0]
            verdict = (result["behavior"], result["behaviorClose"])
            counts[group][verdict] += 1
            total += 1
            if not set(verdict) <= PASSING:
                failures.append(f"{agent} {case}: behavior={verdict[0]} behaviorClose={verdict[1]}")
    for group in sorted(counts, key=int):
        summary = ", ".join(f"{n} {b}/{c}" for (b, c), n in sorted(counts[group].items()))
        print(f"autobahn group {group:>2}: {summary}")
    for failure in failures:
        print(f"autobahn FAILED {failure}")
    print(f"autobahn: {total - len(failures)} passed, {len(failures)} failed, of {total} cases")
    wanted = expected(globs)
    if total < wanted:
        print(f"autobahn: only {total} of the {wanted} cases asked for ran")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
