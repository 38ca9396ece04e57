"""export_check.py - the oracle of tests/integration/export_parquet.sh.

  export_check.py DB DIR TABLE [WHERE [PARQUET]]

Reads TABLE's rows from the SQLite store DB with the sqlite3 CLI (doubles
as quote() gives them, text that reads back exactly), in the order tickpipe export writes
them (symbol, then time), restricted by the SQL condition WHERE if given,
and checks DIR/TABLE.parquet with pyarrow AND DuckDB (every value, the
Parquet types, every row group's statistics min/max/null_count against the
data), DIR/TABLE.csv (Python's csv module and DuckDB's read_csv) and
DIR/TABLE.jsonl (Python's json) against them. With PARQUET, that file
only (an archive's day file). Exits 1 naming the first
difference. Runs under the test venv's python (tests/lib/pyenv.sh)."""
import csv
import datetime
import json
import subprocess
import sys
import uuid

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

db, out_dir, table = sys.argv[1], sys.argv[2], sys.argv[3]
where = sys.argv[4] if len(sys.argv) > 4 else "1"
only_parquet = sys.argv[5] if len(sys.argv) > 5 else None


def die(msg):
    sys.exit(f"{table}: {msg}")


D = "quote({})"  # REAL: shortest text that reads back exactly
# (column, SQL expression, kind, nullable, physical type, logical type)
TABLES = {
    "trades": ("trades", "symbol, trade_timestamp, uuid", [
        ("id", "uuid", "uuid", False, "FIXED_LEN_BYTE_ARRAY", "UUID"),
        ("symbol", "symbol", "str", False, "BYTE_ARRAY", "String"),
        ("price", D.format("price"), "float", False, "DOUBLE", "None"),
        ("volume", D.format("volume"), "float", False, "DOUBLE", "None"),
        ("ts", "trade_timestamp", "ts", False, "INT64", "Timestamp"),
        ("conditions", "trade_conditions", "json", True, "BYTE_ARRAY", "String"),
        ("ingest_ts", "ingest_timestamp", "ts", False, "INT64", "Timestamp"),
    ]),
    "candles": ("candles", "symbol, interval_s, start_ms", [
        ("symbol", "symbol", "str", False, "BYTE_ARRAY", "String"),
        ("interval_s", "interval_s", "int", False, "INT32", "None"),
        ("start", "start_ms", "ts", False, "INT64", "Timestamp"),
        ("open", D.format("open"), "float", False, "DOUBLE", "None"),
        ("high", D.format("high"), "float", False, "DOUBLE", "None"),
        ("low", D.format("low"), "float", False, "DOUBLE", "None"),
        ("close", D.format("close"), "float", False, "DOUBLE", "None"),
        ("volume", D.format("volume"), "float", False, "DOUBLE", "None"),
        ("vwap", "CASE WHEN vwap IS NULL THEN NULL ELSE " + D.format("vwap") + " END", "float", True,
         "DOUBLE", "None"),
        ("trade_count", "trade_count", "int", False, "INT64", "None"),
        ("final", "final", "bool", False, "BOOLEAN", "None"),
        ("incomplete", "incomplete", "bool", False, "BOOLEAN", "None"),
        ("updated_ts", "updated_ms", "ts", False, "INT64", "Timestamp"),
    ]),
    "averages": ("running_averages_15_sec", "symbol, window_start", [
        ("id", "uuid", "uuid", False, "FIXED_LEN_BYTE_ARRAY", "UUID"),
        ("symbol", "symbol", "str", False, "BYTE_ARRAY", "String"),
        ("window_start", "window_start", "ts", False, "INT64", "Timestamp"),
        ("window_end", "window_end", "ts", False, "INT64", "Timestamp"),
        ("price_volume_multiply", D.format("price_volume_multiply"), "float", False, "DOUBLE", "None"),
        ("trade_count", "trade_count", "int", False, "INT64", "None"),
        ("final", "final", "bool", False, "BOOLEAN", "None"),
        ("incomplete", "incomplete", "bool", False, "BOOLEAN", "None"),
        ("ingest_ts", "ingest_timestamp", "ts", False, "INT64", "Timestamp"),
    ]),
    "gaps": ("feed_gaps", "symbol, from_ms, connection", [
        ("symbol", "symbol", "str", False, "BYTE_ARRAY", "String"),
        ("from_ts", "from_ms", "ts", False, "INT64", "Timestamp"),
        ("to_ts", "to_ms", "ts", False, "INT64", "Timestamp"),
        ("reason", "reason", "str", False, "BYTE_ARRAY", "String"),
        ("connection", "connection", "int", False, "INT32", "None"),
        ("detected_ts", "detected_at", "ts", False, "INT64", "Timestamp"),
    ]),
}
sql_table, order, cols = TABLES[table]
names = [c[0] for c in cols]


def typed(kind, v):
    """An oracle value (sqlite3 -json) in the checker's common form."""
    if v is None:
        return None
    if kind == "float":
        return float(v)
    if kind in ("int", "ts"):
        return int(v)
    if kind == "bool":
        return bool(int(v))
    if kind == "json":
        return json.loads(v)
    return str(v)


sql = "SELECT " + ", ".join(f"{c[1]} AS {c[0]}" for c in cols) + f" FROM {sql_table} WHERE {where} ORDER BY {order}"
raw = subprocess.run(["sqlite3", "-json", db, sql], check=True, capture_output=True, text=True).stdout
oracle = [[typed(c[2], r[c[0]]) for c in cols] for r in (json.loads(raw) if raw.strip() else [])]
if not oracle:
    die("the oracle has no rows: the test seeds none?")


def norm(kind, v):
    """A value read back (pyarrow, DuckDB) in the same form."""
    if v is None:
        return None
    if kind == "ts":
        if isinstance(v, datetime.datetime):
            if v.tzinfo is None:
                v = v.replace(tzinfo=datetime.timezone.utc)
            return round(v.timestamp() * 1000)
        return int(v)
    if kind == "uuid":
        if isinstance(v, bytes):
            return str(uuid.UUID(bytes=v))
        return str(v)
    if kind == "json":
        return json.loads(v)
    if kind == "float":
        return float(v)
    if kind == "bool":
        return bool(v)
    return v


def compare(what, rows):
    if len(rows) != len(oracle):
        die(f"{what}: {len(rows)} rows, the store has {len(oracle)}")
    for i, (got, want) in enumerate(zip(rows, oracle)):
        for j, c in enumerate(cols):
            g = norm(c[2], got[j])
            if g != want[j] or type(g) is not type(want[j]):
                die(f"{what}: row {i} column {c[0]}: {g!r}, the store has {want[j]!r}")


pqfile = only_parquet or f"{out_dir}/{table}.parquet"
# ---- pyarrow: values, types, statistics
f = pq.ParquetFile(pqfile)
if f.metadata.num_rows != len(oracle):
    die(f"parquet num_rows {f.metadata.num_rows}, the store has {len(oracle)}")
sch = f.schema
for i, c in enumerate(cols):
    pc = sch.column(i)
    if pc.name != c[0] or pc.physical_type != c[4] or str(pc.logical_type).split("(")[0] != c[5]:
        die(f"column {i}: {pc.name} {pc.physical_type} {pc.logical_type}, want {c[0]} {c[4]} {c[5]}")
    if (pc.max_definition_level == 1) != c[3]:
        die(f"column {c[0]}: nullable is {pc.max_definition_level == 1}")
    lt = json.loads(pc.logical_type.to_json())
    if c[5] == "Timestamp" and (lt.get("timeUnit") != "milliseconds" or lt.get("isAdjustedToUTC") is not True):
        die(f"column {c[0]}: {pc.logical_type}, want TIMESTAMP(MILLIS, UTC)")
    arrow_t = str(f.schema_arrow.field(c[0]).type)
    want_t = {"uuid": "extension<arrow.uuid>", "str": "string", "json": "string", "float": "double",
              "ts": "timestamp[ms, tz=UTC]", "bool": "bool"}.get(c[2], "int32" if c[4] == "INT32" else "int64")
    if arrow_t != want_t:
        die(f"column {c[0]}: arrow type {arrow_t}, want {want_t}")
t = f.read()
arrow_rows = list(zip(*[t.column(n).to_pylist() for n in names]))
compare("pyarrow", arrow_rows)
start = 0
dict_cols = {"symbol", "reason"}
for rg in range(f.metadata.num_row_groups):
    md = f.metadata.row_group(rg)
    part = oracle[start:start + md.num_rows]
    start += md.num_rows
    for j, c in enumerate(cols):
        cc = md.column(j)
        if cc.compression != "ZSTD":
            die(f"row group {rg} column {c[0]}: compression {cc.compression}")
        if c[0] in dict_cols and "RLE_DICTIONARY" not in cc.encodings:
            die(f"row group {rg} column {c[0]}: encodings {cc.encodings}, no dictionary")
        st = cc.statistics
        vals = [r[j] for r in part if r[j] is not None]
        if c[2] == "json":  # the stored text, compared as text
            vals = [json.dumps(v, separators=(",", ":"), ensure_ascii=False) for v in vals]
        if st is None or st.null_count != len(part) - len(vals):
            die(f"row group {rg} column {c[0]}: null_count {st and st.null_count}, "
                f"want {len(part) - len(vals)}")
        if not vals:
            continue
        lo, hi = norm(c[2] if c[2] != "json" else "str", st.min), norm(c[2] if c[2] != "json" else "str", st.max)
        if c[2] == "str" or c[2] == "json":  # TYPE_ORDER of strings: unsigned bytes
            want_lo = min(vals, key=lambda s: s.encode())
            want_hi = max(vals, key=lambda s: s.encode())
        elif c[2] == "uuid":
            want_lo, want_hi = min(vals, key=lambda s: uuid.UUID(s).bytes), max(vals, key=lambda s: uuid.UUID(s).bytes)
        else:
            want_lo, want_hi = min(vals), max(vals)
        if (lo, hi) != (want_lo, want_hi):
            die(f"row group {rg} column {c[0]}: statistics min/max {lo!r}/{hi!r}, want {want_lo!r}/{want_hi!r}")

# ---- DuckDB: values, row count, statistics' null counts
con = duckdb.connect()
duck_types = {"uuid": "UUID", "str": "VARCHAR", "json": "VARCHAR", "float": "DOUBLE", "bool": "BOOLEAN",
              "ts": "TIMESTAMP WITH TIME ZONE"}
for (name, typ, *_), c in zip(con.execute(f"DESCRIBE SELECT * FROM read_parquet('{pqfile}')").fetchall(), cols):
    want = duck_types.get(c[2], "INTEGER" if c[4] == "INT32" else "BIGINT")
    if name != c[0] or typ != want:
        die(f"duckdb reads column {name} as {typ}, want {c[0]} {want}")
# timestamps as epoch ms in SQL (no time zone module in Python needed)
sel = ", ".join(f'epoch_ms("{c[0]}")' if c[2] == "ts" else f'"{c[0]}"' for c in cols)
duck_rows = con.execute(f"SELECT {sel} FROM read_parquet('{pqfile}')").fetchall()
compare("duckdb", duck_rows)
(n,) = con.execute(f"SELECT count(*) FROM '{pqfile}'").fetchone()
if n != len(oracle):
    die(f"duckdb count(*) {n}")
for j, c in enumerate(cols):
    (nulls,) = con.execute(f"SELECT sum(stats_null_count) FROM parquet_metadata('{pqfile}') WHERE path_in_schema = ?",
                           [c[0]]).fetchone()
    want = sum(1 for r in oracle if r[j] is None)
    if nulls != want:
        die(f"duckdb parquet_metadata: column {c[0]} null_count {nulls}, want {want}")
    if c[2] in ("int", "str"):
        lo, hi = con.execute(f"SELECT min(stats_min_value), max(stats_max_value) FROM parquet_metadata('{pqfile}')"
                             " WHERE path_in_schema = ?", [c[0]]).fetchone()
        vals = [r[j] for r in oracle]
        if c[2] == "int":
            lo, hi = int(lo), int(hi)
        if c[2] == "int" and (lo, hi) != (min(vals), max(vals)):
            die(f"duckdb parquet_metadata: column {c[0]} min/max {lo}/{hi}, want {min(vals)}/{max(vals)}")

if only_parquet:
    print(f"ok {table}: {len(oracle)} rows, {f.metadata.num_row_groups} row group(s), {pqfile} equal to the store")
    sys.exit(0)
# ---- CSV: the text itself, and DuckDB's reading of it
with open(f"{out_dir}/{table}.csv", newline="", encoding="utf-8") as fh:
    rd = csv.reader(fh)
    header = next(rd)
    if header != names:
        die(f"csv header {header}")
    csv_rows = []
    for rec in rd:
        row = []
        for c, x in zip(cols, rec):
            if x == "" and c[3]:
                row.append(None)
            elif c[2] == "bool":
                if x not in ("true", "false"):
                    die(f"csv boolean {x!r}")
                row.append(x == "true")
            elif c[2] in ("int", "ts"):
                row.append(int(x))
            elif c[2] == "float":
                row.append(float(x))
            else:
                row.append(x)
        csv_rows.append(row)
compare("csv", csv_rows)
(n,) = con.execute(f"SELECT count(*) FROM read_csv('{out_dir}/{table}.csv', header=true)").fetchone()
if n != len(oracle):
    die(f"duckdb read_csv count {n}")

# ---- JSON lines
jl = []
with open(f"{out_dir}/{table}.jsonl", encoding="utf-8") as fh:
    for line in fh:
        o = json.loads(line)
        if list(o) != names:
            die(f"jsonl keys {list(o)}")
        jl.append([json.dumps(o[c[0]]) if c[2] == "json" and o[c[0]] is not None else o[c[0]] for c in cols])
compare("jsonl", jl)
print(f"ok {table}: {len(oracle)} rows, {f.metadata.num_row_groups} row group(s), parquet/csv/jsonl equal to the store")
