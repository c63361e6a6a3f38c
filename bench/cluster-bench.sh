#!/usr/bin/env bash
# npm run bench:cluster — raftex (3 nodes, fsync on) and etcd (3 members) on this machine, in the
# same run, through the same closed-loop load generator (../shared/bench/etcd/load.mjs), at
# concurrency 1, 16, 64 and 256; then the raftex/etcd ratio per concurrency. raftex is loaded twice:
# `raftex` (one unary SubmitOrder call per order) and `raftex-session` (orders on OrderEntry streams).
# Needs etcd-server and etcd-client (apt-get install -y etcd-server etcd-client). Knobs: REPEAT, RUN_SECONDS, CONCURRENCIES;
# RAFTEX_ROOT (bench a tree built elsewhere, skip the build), RAFTEX_BENCH_BASE_PORT (default 7101),
# RAFTEX_NODE_FLAGS (V8 flags of the nodes, see systems/raftex.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${RAFTEX_SHARED:-$ROOT/../shared}
OUT=${1:-/tmp/raftex-bench-cluster-$(date -u +%Y%m%dT%H%M%SZ)}
command -v etcd >/dev/null || { echo "bench:cluster needs etcd: apt-get install -y etcd-server" >&2; exit 1; }
# The etcd cluster script waits for health with etcdctl; without it etcd never "becomes healthy".
command -v etcdctl >/dev/null || { echo "bench:cluster needs etcdctl: apt-get install -y etcd-client" >&2; exit 1; }
# Benchmark the code as it is now, not a stale dist/. RAFTEX_ROOT=<dir with bin/ and dist/> runs a
# tree built elsewhere instead (then nothing is built). tsc emits even when it reports type errors,
# so a tree mid-edit elsewhere still gets benchmarked; the warning says so.
if [[ -z ${RAFTEX_ROOT:-} ]]; then
  (cd "$ROOT" && npm run build >&2) || echo "bench:cluster: the build reported errors; benchmarking what it emitted" >&2
  [[ -f $ROOT/dist/src/cli/main.js ]] || { echo "bench:cluster: no dist/src/cli/main.js after the build" >&2; exit 1; }
fi
SYSTEMS=${SYSTEMS:-"etcd raftex raftex-session"} EXTRA_SYSTEMS_DIR=$ROOT/bench/systems \
  "$SHARED/bench/etcd/run-bench.sh" "$OUT" >/dev/null
node - "$OUT/results.jsonl" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const by = (label, c) => rows.filter((r) => r.label === label && r.concurrency === c);
const concurrencies = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
// etcd first, then each raftex client (unary calls; OrderEntry sessions), each against etcd.
const labels = [...new Set(rows.map((r) => r.label))].sort((a, b) => (a === 'etcd' ? -1 : b === 'etcd' ? 1 : a.localeCompare(b)));
const f = (xs, k) => (xs.length ? med(xs.map((x) => x[k])) : NaN);
console.log('| system | C | writes/s | p50 ms | p99 ms | p99.9 ms | x etcd |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const c of concurrencies) {
  const etcd = f(by('etcd', c), 'opsPerSec');
  for (const label of labels) {
    const r = by(label, c);
    if (r.length === 0) continue;
    const ratio = label === 'etcd' || Number.isNaN(etcd) ? '' : `${(f(r, 'opsPerSec') / etcd).toFixed(2)}x`;
    console.log(`| ${label} | ${c} | ${Math.round(f(r, 'opsPerSec'))} | ${f(r, 'p50ms')} | ${f(r, 'p99ms')} | ${f(r, 'p999ms')} | ${ratio} |`);
  }
}
JS
echo "results: $OUT"
