#!/bin/sh
# Runs units of Redis's own Tcl test suite against a server that is already listening
# (external-server mode) and prints one line per unit: "unit: N passed, M failed", then totals.
#
# Usage: scripts/tcl-yardstick.sh [TESTS_DIR] [HOST] [PORT] [UNIT...]
#   TESTS_DIR  a checkout holding Redis's `runtest` and `tests/` (default: $REDIS_TESTS),
#              e.g. `git archive 7.0.15 tests runtest | tar -x -C /tmp/redis-tests`
#   HOST PORT  the server under test (default: $HOST or 127.0.0.1, $PORT or 6379)
#   UNIT...    units to run (default: the list below)
# Environment:
#   TCL_TAGS   the --tags filter (default excludes tests that need DEBUG, replication,
#              SAVE, DEBUG-only HLL commands, latency monitoring or a local process);
#              set TCL_TAGS="" to run everything the suite allows in external mode
#   TCL_ARGS   more arguments for runtest (e.g. "--timeout 600")
#   LOG_DIR    where each unit's full output goes (default: a fresh directory under /tmp)
#   SERVER_CMD a command that starts the server under test in the foreground, e.g.
#              "redis-server --save ''" or "target/debug/sketchstore-server --save ''";
#              when set, a fresh server is started on PORT (with `--port PORT`) for each
#              unit and stopped after it. Recommended: some units change server settings
#              and leave them changed (unit/type/list raises proto-max-bulk-len), which
#              would leak into the units after them on a shared server.
#   UNIT_TIMEOUT  seconds before a unit is stopped and reported aborted (default 900)
#   SINGLEDB   1 (default) passes --singledb: the suite never SELECTs and runs in db 0;
#              0 runs it as against a stock Redis, in db 9 with SELECT, MOVE and SWAPDB
#
# A unit that stops before its end (an error outside any test, a lost connection, a
# timeout) is reported as "aborted"; its counts are the tests that ran up to that point.
# The exit status is 0 when every test that ran passed and no unit aborted, 1 otherwise.

set -u

TESTS_DIR=${1:-${REDIS_TESTS:-}}
HOST=${2:-${HOST:-127.0.0.1}}
PORT=${3:-${PORT:-6379}}
[ $# -gt 3 ] && shift 3 || set --

if [ -z "$TESTS_DIR" ] || [ ! -f "$TESTS_DIR/tests/test_helper.tcl" ]; then
    echo "tcl-yardstick: no Redis tests checkout (give its path as the first argument or in REDIS_TESTS)" >&2
    exit 2
fi
if ! command -v tclsh >/dev/null 2>&1 && ! command -v tclsh8.6 >/dev/null 2>&1; then
    echo "tcl-yardstick: tclsh (Tcl 8.5 or newer) is not installed" >&2
    exit 2
fi

UNITS="$*"
if [ -z "$UNITS" ]; then
    UNITS="unit/type/string unit/type/incr unit/type/list unit/type/hash unit/type/set
unit/type/zset unit/sort unit/dump unit/keyspace unit/expire unit/hyperloglog unit/bitops
unit/bitfield unit/pubsub unit/protocol unit/info-command unit/auth unit/quit unit/multi
unit/other"
fi

DEFAULT_TAGS="-needs:debug -needs:repl -needs:save -needs:pfdebug -needs:latency -needs:local-process"
TAGS=${TCL_TAGS-$DEFAULT_TAGS}
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/tcl-yardstick.XXXXXX)}
mkdir -p "$LOG_DIR"

UNIT_TIMEOUT=${UNIT_TIMEOUT:-900}
SINGLEDB_ARG=""
[ "${SINGLEDB:-1}" = "0" ] || SINGLEDB_ARG="--singledb"
SERVER_PID=""

start_server() {
    [ -z "${SERVER_CMD:-}" ] && return 0
    # shellcheck disable=SC2086
    sh -c "exec $SERVER_CMD --port $PORT" >"$LOG_DIR/server.log" 2>&1 &
    SERVER_PID=$!
    tries=0
    while [ $tries -lt 100 ]; do
        if redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null | grep -q PONG; then
            return 0
        fi
        tries=$((tries + 1))
        sleep 0.1
    done
    echo "tcl-yardstick: the server did not start: $SERVER_CMD --port $PORT" >&2
    stop_server
    exit 2
}

stop_server() {
    [ -z "$SERVER_PID" ] && return 0
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
trap stop_server EXIT INT TERM

if [ -n "${SERVER_CMD:-}" ] && ! command -v redis-cli >/dev/null 2>&1; then
    echo "tcl-yardstick: SERVER_CMD needs redis-cli to see when the server is up" >&2
    exit 2
fi

total_pass=0
total_fail=0
total_ignored=0
aborted=0
status=0

for unit in $UNITS; do
    log="$LOG_DIR/$(echo "$unit" | tr '/' '_').log"
    # --durable: an exception inside a test counts as that test's failure instead of
    # ending the run; --singledb (unless SINGLEDB=0): no SELECT, everything in db 0.
    start_server
    (
        cd "$TESTS_DIR" || exit 2
        # shellcheck disable=SC2086
        timeout "$UNIT_TIMEOUT" ./runtest --host "$HOST" --port "$PORT" $SINGLEDB_ARG --durable \
            --single "$unit" ${TAGS:+--tags "$TAGS"} ${TCL_ARGS:-}
    ) >"$log" 2>&1
    rc=$?
    stop_server
    # colorstr adds ANSI escapes when stdout is a terminal; strip them before counting.
    clean=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
    pass=$(printf '%s\n' "$clean" | grep -c '^\[ok\]:')
    fail=$(printf '%s\n' "$clean" | grep -c '^\[err\]:\|^\[exception\]:')
    ignored=$(printf '%s\n' "$clean" | grep -c '^\[ignore\]:\|^\[skip\]:')
    note=""
    if ! printf '%s\n' "$clean" | grep -q "All tests passed\|tests failed"; then
        note=", aborted (exit $rc; see $log)"
        aborted=$((aborted + 1))
        status=1
    fi
    [ "$fail" -gt 0 ] && status=1
    echo "$unit: $pass passed, $fail failed ($ignored skipped by tags)$note"
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    total_ignored=$((total_ignored + ignored))
done

echo "total: $total_pass passed, $total_fail failed ($total_ignored skipped by tags), $aborted units aborted"
echo "logs: $LOG_DIR"
exit $status
