#!/usr/bin/env bash
# readme-flags.sh [--check] [TICKPIPE] - regenerate the flag table of every
# command in README.md from the option tables (`tickpipe help-flags
# --markdown CMD`), between the lines <!-- CMD flags: begin --> and
# <!-- CMD flags: end -->. With --check, change nothing and exit 1 (saying
# which command) when a table is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
tickpipe=${1:-${TICKPIPE:-build/tickpipe}}
python3 - "$tickpipe" "$check" <<'PY'
import re, subprocess, sys
tickpipe, check = sys.argv[1], sys.argv[2] == "1"
readme = open("README.md").read()
out, stale = readme, []
for cmd in ["run", "simulate", "capture", "produce", "process", "serve", "symbols", "export", "archive"]:
    table = subprocess.run([tickpipe, "help-flags", "--markdown", cmd], check=True,
                           capture_output=True, text=True).stdout
    begin, end = f"<!-- {cmd} flags: begin -->\n", f"<!-- {cmd} flags: end -->"
    m = re.search(re.escape(begin) + r"(.*?)" + re.escape(end), out, re.S)
    if not m:
        sys.exit(f"README.md has no '{begin.strip()}' ... '{end}' block")
    if m.group(1) != table:
        stale.append(cmd)
        out = out[:m.start(1)] + table + out[m.end(1):]
if check:
    if stale:
        sys.exit("README.md flag tables out of date for: " + ", ".join(stale) +
                 " (run scripts/readme-flags.sh)")
elif out != readme:
    open("README.md", "w").write(out)
    print("updated:", ", ".join(stale))
PY
