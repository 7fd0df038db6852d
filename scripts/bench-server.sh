#!/bin/sh
# Throughput of sketchstore-server beside redis-server 7.0, measured by redis-benchmark in the
# same run: for each round, each test runs against one server then the other (which goes first
# alternates between rounds), so both see the same machine load. Prints requests per second per test, server and round, then the median
# ratio (sketchstore / Redis) per test.
#
# Usage: scripts/bench-server.sh [ROUNDS] [REQUESTS]
#   ROUNDS    repetitions of the whole table (default 3)
#   REQUESTS  requests per redis-benchmark run (default 100000)
# Environment: CLIENTS (default 50), TESTS (redis-benchmark's -t list, default
#              "set,get,incr,lpush,lpop"), PFADD (1, the default, also runs PFADD on random
#              elements as a custom command: redis-benchmark has no -t for it),
#              PIPELINES (default "1 16"), SERVER_ARGS (more flags for sketchstore-server,
#              e.g. "--io-threads 2"), SERVER_ENV (its environment), PIN (see below).
#
# Placement. By default the scheduler places both servers and redis-benchmark, as when anyone
# runs redis-benchmark. PIN=1 runs both servers on CPU 0 and redis-benchmark on CPU 1 (needs
# taskset and 2 CPUs): the same placement for both servers, so a pipelined run compares the
# servers' own CPU cost. At -P 1 the single-threaded redis-benchmark is then the bottleneck:
# its core is busy all the time, 90 % of it in the kernel's TCP work, both servers wait on
# it and measure the same. Unpinned, the kernel's loopback work spreads over both cores, and
# the server that needs less CPU leaves more of it to the client.
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools) and a release
# build: cargo build --release --bin sketchstore-server.
set -eu

ROUNDS=${1:-3}
REQUESTS=${2:-100000}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-set,get,incr,lpush,lpop}
PFADD=${PFADD:-1}
SERVER_ENV=${SERVER_ENV:-}
SERVER_ARGS=${SERVER_ARGS:-}
PIPELINES=${PIPELINES:-"1 16"}
PIN=${PIN:-0}
SERVER_CPU=""; CLIENT_CPU=""
if [ "$PIN" = 1 ]; then
    command -v taskset >/dev/null 2>&1 || { echo "bench-server: PIN=1 needs taskset (util-linux)" >&2; exit 2; }
    [ "$(nproc)" -ge 2 ] || { echo "bench-server: PIN=1 needs 2 CPUs" >&2; exit 2; }
    SERVER_CPU="taskset -c 0"; CLIENT_CPU="taskset -c 1"
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SKETCHSTORE_SERVER:-$ROOT/target/release/sketchstore-server}

for tool in redis-server redis-benchmark; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench-server: $tool is not installed (apt-get install -y redis-server redis-tools)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "bench-server: $BIN missing: cargo build --release --bin sketchstore-server" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P_OURS=$(free_port); P_REDIS=$(free_port)
DIR=$(mktemp -d)
$SERVER_CPU env $SERVER_ENV "$BIN" --port "$P_OURS" --save "" --dir "$DIR" $SERVER_ARGS >/dev/null 2>&1 &
PID_OURS=$!
$SERVER_CPU redis-server --port "$P_REDIS" --save "" --appendonly no --dir "$DIR" >/dev/null 2>&1 &
PID_REDIS=$!
trap 'kill $PID_OURS $PID_REDIS 2>/dev/null; rm -rf "$DIR"' EXIT
sleep 1

OUT="$DIR/results"
: > "$OUT"
round=1
while [ "$round" -le "$ROUNDS" ]; do
    for p in $PIPELINES; do
        order="sketchstore redis"
        [ $((round % 2)) -eq 0 ] && order="redis sketchstore"
        for server in $order; do
            port=$P_OURS; [ "$server" = redis ] && port=$P_REDIS
            $CLIENT_CPU redis-benchmark -p "$port" -q -n "$REQUESTS" -c "$CLIENTS" -P "$p" -t "$TESTS" --csv 2>/dev/null \
                | tail -n +2 | tr -d '"' | while IFS=, read -r test rps rest; do
                    echo "$round $p $server $test $rps" >> "$OUT"
                done
            if [ "$PFADD" = 1 ]; then
                $CLIENT_CPU redis-benchmark -p "$port" -q -n "$REQUESTS" -c "$CLIENTS" -P "$p" -r 1000000 --csv \
                    PFADD "bench:hll" __rand_int__ 2>/dev/null \
                    | tail -n +2 | tr -d '"' | while IFS=, read -r test rps rest; do
                        echo "$round $p $server PFADD $rps" >> "$OUT"
                    done
            fi
        done
    done
    round=$((round + 1))
done

echo "pinned: $PIN (servers on CPU 0, redis-benchmark on CPU 1 when 1); clients $CLIENTS; requests $REQUESTS"
echo "round pipeline server test requests_per_second"
cat "$OUT"
echo
echo "median over rounds: test pipeline sketchstore redis ratio"
python3 - "$OUT" <<'PY'
import sys, statistics, collections
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
d = collections.defaultdict(list)
for r, p, s, t, v in rows:
    d[(t, int(p), s)].append(float(v))
for (t, p) in sorted({(t, p) for (t, p, s) in d}):
    ours = statistics.median(d[(t, p, "sketchstore")])
    theirs = statistics.median(d[(t, p, "redis")])
    print(f"{t:8s} P={p:<3d} {ours:12.0f} {theirs:12.0f}  x{ours / theirs:.2f}")
PY
