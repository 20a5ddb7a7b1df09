"""Judges a kosoku report folder: per-group counts, and exit 1 unless every
case of groups 1-10 is OK or INFORMATIONAL (both behavior and behaviorClose).

Groups 12 and 13 test permessage-deflate, which hyperws does not negotiate
yet; they are listed, not judged.
"""

import collections
import json
import sys
from pathlib import Path

PASSING = {"OK", "INFORMATIONAL"}
NOT_YET = {"12": "permessage-deflate (not implemented yet)", "13": "permessage-deflate (not implemented yet)"}


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
            if group not in NOT_YET:
                total += 1
                if not set(verdict) <= PASSING:
                    failures.append(f"{agent} {case}: behavior={verdict[0]} behaviorClose={verdict[1]}")
    for group in sorted(counts, key=int):
        summary = ", ".join(f"{n} {b}/{c}" for (b, c), n in sorted(counts[group].items()))
        note = f"  [{NOT_YET[group]}]" if group in NOT_YET else ""
        print(f"autobahn group {group:>2}: {summary}{note}")
    if total == 0:
        print("autobahn: no cases of groups 1-10 ran")
        return 1
    for failure in failures:
        print(f"autobahn FAILED {failure}")
    print(f"autobahn: {total - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
