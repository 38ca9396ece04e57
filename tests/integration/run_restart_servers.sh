#!/usr/bin/env bash
# run_restart_servers.sh - run_restart.sh on ClickHouse and Cassandra, three
# random stops each (fewer than on SQLite and PostgreSQL, to keep the suite
# lean: a Cassandra node takes a minute to start): after every SIGTERM or
# kill -9 and restart the candles and averages equal what the stored trades
# give, recomputed by tests/lib/window_oracle.py from the rows read through
# the database's own client.
export TP_RESTART_STORES=${TP_RESTART_STORES:-ch cass} TP_RESTART_ROUNDS=${TP_RESTART_ROUNDS:-3}
exec bash "$TP_SOURCE_DIR/tests/integration/run_restart.sh"
