#!/usr/bin/env bash
# feed_dedupe.sh - repeated trade messages (`simulate --repeat-rate`) are
# dropped and counted by the source, and nothing else is: the simulator
# sends exactly N distinct trades (--max-trades), and capture must reach all
# N of them; the capture's own recording of the raw frames (taken before
# the dedupe) is the oracle: a Python reader finds the frames that repeat a
# recent one byte for byte, and the printed trades and the duplicates=
# count must be exactly what remains. With --dedupe-horizon 0 the repeats
# come through.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
N=3000

start_sim rep --rate 0 --batch 4 --seed 7 --repeat-rate 0.3 --max-trades $N
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT,BINANCE:BTCUSDT \
  --max-trades $N --max-reconnects 0 --record "$TMP/rec.tprec" --print >"$TMP/rep.jsonl" 2>"$TMP/rep.err" \
  || fail "capture failed (a real trade dropped would leave it short of $N): $(cat "$TMP/rep.err")"
[ "$(wc -l <"$TMP/rep.jsonl")" = $N ] || fail "printed $(wc -l <"$TMP/rep.jsonl") trades, not $N"
d=$(summary_field "$TMP/rep.err" duplicates)
dt=$(summary_field "$TMP/rep.err" duplicate_trades)
tr=$(summary_field "$TMP/rep.err" trades)
/usr/bin/python3 - "$TMP/rec.tprec" "$TMP/rep.jsonl" "$d" "$dt" "$tr" <<'PY' || fail "the dedupe does not match the recording"
import json, sys
path, printed, dups, dup_trades, trades = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
data = open(path, "rb").read()
assert data.startswith(b"TPREC1\n")
pos, frames = 7, []
while pos < len(data):
    nl = data.index(b"\n", pos)
    ms, n = map(int, data[pos:nl].split())
    frames.append(data[nl + 1:nl + 1 + n])
    pos = nl + 1 + n + 1
recent, kept, rep, rep_trades = [], [], 0, 0
for f in frames:
    m = json.loads(f)
    if m.get("type") != "trade":
        continue
    if f in recent:  # a byte-for-byte repeat of a recent trade frame
        rep += 1
        rep_trades += len(m["data"])
        continue
    recent = (recent + [f])[-64:]
    kept.extend(m["data"])
got = [json.loads(l) for l in open(printed)]
assert rep > 50, rep  # 30% of ~750 frames
assert rep == dups, (rep, dups)
assert rep_trades == dup_trades, (rep_trades, dup_trades)
assert len(kept) == trades, (len(kept), trades)
key = lambda t: (t["s"], t["t"], t["p"], t["v"], t.get("c"))
assert [key(t) for t in got] == [key(t) for t in kept[:len(got)]], "the printed trades are not the distinct ones"
print(f"ok: {rep} repeated frames ({rep_trades} trades) dropped, {len(kept)} distinct trades kept")
PY
# with --max-trades the simulator exits by itself once the client has gone
wait "$PID_rep" || fail "simulate did not exit 0"
sim_trades=$(sed -n 's/.*stopped: .* trades=\([0-9]*\) .*/\1/p' "$TMP/rep.log")
sim_rep=$(sed -n 's/.*stopped: .* repeats=\([0-9]*\).*/\1/p' "$TMP/rep.log")
[ "$sim_trades" = $N ] && [ "$tr" = $N ] || fail "simulator sent $sim_trades trades, capture kept $tr"
# the simulator may have repeated the last frame after capture stopped reading
[ "$sim_rep" -ge "$d" ] && [ "$sim_rep" -le $((d + 1)) ] || fail "simulator repeats=$sim_rep, capture duplicates=$d"
ok "--repeat-rate 0.3: $d repeats dropped and counted ($sim_rep sent), all $N distinct trades kept"

# --dedupe-horizon 0: every message is kept, repeats included
start_sim rep0 --rate 0 --batch 4 --seed 7 --repeat-rate 0.3 --max-trades $N
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT \
  --max-trades $((N + 200)) --max-reconnects 0 --dedupe-horizon 0 >"$TMP/rep0.jsonl" 2>"$TMP/rep0.err" \
  || fail "capture --dedupe-horizon 0 failed: $(cat "$TMP/rep0.err")"
[ "$(summary_field "$TMP/rep0.err" duplicates)" = 0 ] || fail "duplicates counted with the dedupe off"
[ "$(sort "$TMP/rep0.jsonl" | uniq -d | wc -l)" -ge 100 ] || fail "no repeated trades with the dedupe off"
ok "--dedupe-horizon 0 keeps the repeats"
