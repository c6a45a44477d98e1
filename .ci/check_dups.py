"""Duplicated code in src/ at zero new findings, with pylint's similarity checker (R0801).

pylint compares every pair of files (not a file with itself) after dropping comments,
docstrings, imports and signatures, and reports each run of at least MIN_LINES equal lines.
A finding is identified by a hash of its duplicated text, not by file names or line numbers, so
that moving code (splitting a module) or editing around it does not turn an old finding into a
new one. .ci/dup-baseline.txt lists today's findings; any finding not in it fails the check.
Removing a duplicate leaves a stale baseline entry, reported as a note; regenerate the baseline
with --update (`make dup-baseline`) after removing duplicates, never to admit new ones.

    python .ci/check_dups.py            # check (exit 1 on a new finding)
    python .ci/check_dups.py --update   # rewrite the baseline from today's findings
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

MIN_LINES = 4  # pylint's default: catches the copied optimizer prologues and node-building blocks
ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "dup-baseline.txt"


def findings() -> dict[str, str]:
    """{hash: one-line description} for each duplicate pylint reports in src/ferrum."""
    cmd = [sys.executable, "-m", "pylint", "--disable=all", "--enable=duplicate-code",
           f"--min-similarity-lines={MIN_LINES}", "--ignore-comments=yes", "--ignore-docstrings=yes",
           "--ignore-imports=yes", "--ignore-signatures=yes", "--output-format=json",
           "--persistent=no", "--score=no", "src/ferrum"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode & 1 or r.returncode & 32 or not r.stdout.strip():  # fatal / usage error
        sys.exit(f"check_dups: pylint failed (exit {r.returncode}):\n{r.stderr}{r.stdout}")
    out = {}
    for msg in json.loads(r.stdout):
        if msg.get("symbol") != "duplicate-code":
            continue
        where = [ln[2:] for ln in msg["message"].splitlines() if ln.startswith("==")]
        code = _common_text(where[0])
        h = hashlib.sha1(code.encode()).hexdigest()[:16]
        out[h] = f"{' '.join(where)}  | {code.splitlines()[0] if code else ''}"
    return out


def _common_text(where: str) -> str:
    """The duplicated lines at ``module:[start:end]`` as pylint compared them (comments, docstrings,
    imports and signatures dropped, stripped): the same on every side of a finding, unlike the
    raw text pylint prints, which comes from either side."""
    from pylint.checkers.symilar import stripped_lines
    mod, rng = where.rsplit(":[", 1)
    start, end = (int(x) for x in rng.strip("[]").split(":"))
    base = ROOT / "src" / Path(*mod.split("."))
    path = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
    lines = path.read_text().splitlines(keepends=True)
    spec = stripped_lines(lines, True, True, True, True)
    return "\n".join(ls.text for ls in spec if start <= ls.line_number < end)


def read_baseline() -> set[str]:
    if not BASELINE.exists():
        return set()
    lines = BASELINE.read_text().splitlines()
    return {ln.split()[0] for ln in lines if ln.strip() and not ln.startswith("#")}


def main(argv: list[str]) -> int:
    found = findings()
    if "--update" in argv:
        BASELINE.write_text(
            f"# duplicated-code findings (pylint R0801, min {MIN_LINES} lines) accepted as of this "
            "baseline:\n"
            "# hash of the duplicated text, then where it was seen and its first line (information only)\n"
            + "".join(f"{h} {d}\n" for h, d in sorted(found.items(), key=lambda kv: kv[1])))
        print(f"check_dups: wrote {len(found)} findings to {BASELINE.relative_to(ROOT)}")
        return 0
    base = read_baseline()
    new = {h: d for h, d in found.items() if h not in base}
    gone = base - set(found)
    for h, d in sorted(new.items(), key=lambda kv: kv[1]):
        print(f"check_dups: NEW duplicate ({h}): {d}")
    if gone:
        print(f"check_dups: note: {len(gone)} baseline finding(s) no longer found; `make dup-baseline` "
              "to drop them")
    print(f"check_dups: {len(found)} finding(s) with min {MIN_LINES} lines, {len(found) - len(new)} in the "
          f"baseline, {len(new)} new")
    if new:
        print("check_dups: remove the duplication (a shared helper one floor down), or, for a pair that"
              " is alike only in shape, raise it with the lead")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
