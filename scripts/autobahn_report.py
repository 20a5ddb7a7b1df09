"""Judges a kosoku report folder: per-group counts, and exit 1 unless all
517 cases of the suite ran and each is OK or INFORMATIONAL (behavior and
behaviorClose alike) — compression groups 12 and 13 included; NON-STRICT
and UNIMPLEMENTED fail.
"""

import collections
import json
import sys
from pathlib import Path

PASSING = {"OK", "INFORMATIONAL"}
EXPECTED_CASES = 517


def main(folder: str) -> int:
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
    if total < EXPECTED_CASES:
        print(f"autobahn: only {total} of the suite's {EXPECTED_CASES} cases ran")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
