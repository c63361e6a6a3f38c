# raftex as a system for ../shared/bench/etcd/run-bench.sh (sourced; see systems/etcd.sh there).
# Three `raftex node` processes on 127.0.0.1:7101-7103, fsync on, data under the run's DIR.
RAFTEX_ROOT=${RAFTEX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RAFTEX_BASE=${RAFTEX_BENCH_BASE_PORT:-7101}
# V8 flags for the nodes. A larger young generation makes scavenges rarer and cheaper: every order
# allocates request, command, entry, WAL record and reply objects that die young. Override with
# RAFTEX_NODE_FLAGS="" to measure without.
RAFTEX_NODE_FLAGS=${RAFTEX_NODE_FLAGS---max-semi-space-size=32}

raftex_endpoints() { echo "127.0.0.1:$RAFTEX_BASE,127.0.0.1:$((RAFTEX_BASE + 1)),127.0.0.1:$((RAFTEX_BASE + 2))"; }

system_describe() { echo "raftex $(node -p "require('$RAFTEX_ROOT/package.json').version") (3 nodes, 127.0.0.1, fsync on, $(node --version)${RAFTEX_NODE_FLAGS:+ $RAFTEX_NODE_FLAGS})"; }

system_start() {
  local dir=$1 i id peers
  : >"$dir/pids"
  for i in 1 2 3; do
    id=n$i; peers=""
    for j in 1 2 3; do
      [[ $j == "$i" ]] && continue
      peers="${peers:+$peers,}n$j=127.0.0.1:$((RAFTEX_BASE + j - 1))"
    done
    # shellcheck disable=SC2086 # the flags are a word list
    setsid node $RAFTEX_NODE_FLAGS "$RAFTEX_ROOT/bin/raftex.js" node --id "$id" --listen "127.0.0.1:$((RAFTEX_BASE + i - 1))" \
      --peers "$peers" --data-dir "$dir/$id" >"$dir/$id.log" 2>&1 &
    echo $! >>"$dir/pids"
  done
  node "$RAFTEX_ROOT/bench/wait-leader.mjs" "$(raftex_endpoints)"
}

# True while any of the run's node processes is still alive.
raftex_any_alive() {
  local pid
  while read -r pid; do kill -0 "$pid" 2>/dev/null && return 0; done <"$1/pids"
  return 1
}

system_stop() {
  local dir=$1 pid
  [[ -f $dir/pids ]] || return 0
  while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$dir/pids"
  # A node ends within 5 s of SIGTERM (it may hand leadership over first); KILL only stragglers.
  local waited=0
  while ((waited < 60)) && raftex_any_alive "$dir"; do
    sleep 0.1
    waited=$((waited + 1))
  done
  while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/pids"
  rm -f "$dir/pids"
}

system_pids() { cat "$1/pids" 2>/dev/null; }

system_load_args() { echo "--driver $RAFTEX_ROOT/bench/drivers/raftex.mjs --endpoints $(raftex_endpoints) --target leader"; }
