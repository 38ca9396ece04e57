"""incomplete_check.py GAPS CANDLES AVERAGES: exactly the windows that
overlap a feed gap of their symbol are marked incomplete, recomputed from
the stored gaps. CSV files without header, as the database's own client
prints them:
  GAPS      symbol,from_ms,to_ms, or a tickpipe log whose "gap in SYM on
            connection N: no trades between F and T ms" lines are the gaps
  CANDLES   symbol,interval_s,start_ms,incomplete
  AVERAGES  symbol,window_start_ms,window_end_ms,incomplete
A window [start, end) overlaps the gap [from, to] when start <= to and
from < end (a lost trade may share the millisecond of the trade before or
after it). Also requires at least one incomplete and one complete window."""
import csv
import re
import sys

gaps = {}
text = open(sys.argv[1]).read()
logged = re.findall(r"gap in (\S+) on connection \d+: no trades between (\d+) and (\d+) ms", text)
for s, f, t in logged or csv.reader(text.splitlines()):
    gaps.setdefault(s, []).append((int(f), int(t)))


def want(sym, start, end):
    return any(start <= t and f < end for f, t in gaps.get(sym, ()))


bad, n, inc = [], 0, 0
for s, iv, start, got in csv.reader(open(sys.argv[2])):
    start, end = int(start), int(start) + int(iv) * 1000
    w, g = want(s, start, end), got.strip().lower() in ("1", "t", "true")
    n, inc = n + 1, inc + g
    if w != g:
        bad.append(("candle", s, iv, start, "want", w))
for s, start, end, got in csv.reader(open(sys.argv[3])):
    w, g = want(s, int(start), int(end)), got.strip().lower() in ("1", "t", "true")
    n, inc = n + 1, inc + g
    if w != g:
        bad.append(("average", s, start, "want", w))
assert gaps and not bad, (len(bad), bad[:8])
assert 0 < inc < n, (inc, n)
print(f"ok: {inc} of {n} windows incomplete, exactly those overlapping the {sum(map(len, gaps.values()))} gaps")
