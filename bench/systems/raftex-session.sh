# raftex with its orders sent over OrderEntry sessions (one bidirectional stream per connection)
# instead of unary SubmitOrder calls: the same nodes, load loop and orders as systems/raftex.sh.
# shellcheck source=raftex.sh
source "$(dirname "${BASH_SOURCE[0]}")/raftex.sh"
system_describe() { echo "raftex $(node -p "require('$RAFTEX_ROOT/package.json').version") via OrderEntry sessions (3 nodes, 127.0.0.1, fsync on, $(node --version)${RAFTEX_NODE_FLAGS:+ $RAFTEX_NODE_FLAGS})"; }
system_load_args() { echo "--driver $RAFTEX_ROOT/bench/drivers/raftex-session.mjs --endpoints $(raftex_endpoints) --target leader"; }
