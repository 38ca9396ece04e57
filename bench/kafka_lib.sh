# kafka_lib.sh - pieces the Kafka benchmarks share (bench_kafka.sh,
# bench_produce.sh). Source it; it defines functions only.
#
# bench_recording N BATCH PATH [VOLUME_MIN]: a recording (feed/record.h
# format, what `produce --replay` reads) of N trades in frames of BATCH, 10
# symbols, event time 1 ms apart from 1700000000000, prices 10-500, volumes
# VOLUME_MIN (default 0) to 500; seeded, so every run replays the same bytes.
bench_recording() {
  /usr/bin/python3 - "$1" "$2" "$3" "${4:-0}" <<'PY'
import random, sys
n, b, path, vmin = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
syms = ["AAPL", "MSFT", "AMZN", "NVDA", "TSLA", "GOOGL", "META", "BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "OANDA:EUR_USD"]
rnd = random.Random(1)
t = 1700000000000
with open(path, "wb") as f:
    f.write(b"TPREC1\n")
    done = 0
    while done < n:
        k = min(b, n - done)
        items = []
        for _ in range(k):
            t += 1
            items.append('{"c":["1","12"],"p":%.2f,"s":"%s","t":%d,"v":%d}' % (rnd.uniform(10, 500), rnd.choice(syms), t, rnd.randint(vmin, 500)))
        fr = ('{"data":[' + ",".join(items) + '],"type":"trade"}').encode()
        f.write(b"%d %d\n" % (t, len(fr)) + fr + b"\n")
        done += k
PY
}

# The producer settings kcat gets when it is the reference for produce:
# tickpipe produce's own defaults (src/kafka/producer.c).
BENCH_KCAT_PRODUCER_X=(-X enable.idempotence=true -X acks=all -X max.in.flight.requests.per.connection=1
  -X compression.codec=lz4 -X linger.ms=5)
