/**
 * A tiny interpreter for etcd-style interaction scripts (test/raft/scenarios/*.txt): one command
 * per line, each echoed as `> command` and followed by what it printed, so a script and its
 * golden output read like a transcript. Commands:
 *
 *   craft <id> <term>:<count>,... term=<t> [commit=<i>]   pre-fill a node's storage (before `nodes`)
 *   nodes <id>... [key=value...]     build the cluster (config overrides: preVote=false, ...)
 *   campaign <id> | stabilize | tick <n> [id...] | propose <id> <text> [count]
 *   isolate <id> | partition <ids> / <ids> | heal | crash <id> | restart <id>
 *   status | log <id> | rejections <id> | read <id> <requestId>
 */
import { Harness, craftedStorage } from './harness.js';
import type { MemoryStorage, NodeId, RaftConfig } from '../../src/raft/index.js';

type Overrides = Partial<Omit<RaftConfig, 'id' | 'voters'>>;

/** Runs a script and returns its transcript. Throws on an unknown command or a failed step. */
export function runScript(script: string, seed = 1): string {
  const out: string[] = [];
  const crafted = new Map<NodeId, MemoryStorage>();
  let harness: Harness | null = null;
  let rejectionMark = 0;
  const h = (): Harness => {
    if (harness === null) throw new Error('`nodes` must come first');
    return harness;
  };
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      out.push(raw);
      continue;
    }
    out.push(`> ${line}`);
    const [command, ...args] = line.split(/\s+/) as [string, ...string[]];
    switch (command) {
      case 'craft': {
        const [id, runs, ...options] = args;
        const opts = keyValues(options);
        const parsed = runs!.split(',').map((run) => run.split(':').map(Number) as [number, number]);
        crafted.set(id!, craftedStorage(parsed, Number(opts.term ?? 0), Number(opts.commit ?? 0)));
        break;
      }
      case 'nodes': {
        const ids = args.filter((arg) => !arg.includes('='));
        const config = configOverrides(keyValues(args.filter((arg) => arg.includes('='))));
        harness = new Harness({ ids, seed, config, storages: crafted });
        break;
      }
      case 'campaign':
        h().node(args[0]!).campaign();
        break;
      case 'stabilize':
        h().stabilize();
        break;
      case 'tick':
        h().tick(Number(args[0] ?? 1), args.length > 1 ? args.slice(1) : h().ids);
        break;
      case 'propose': {
        const [id, text, count] = args;
        for (let i = 0; i < Number(count ?? 1); i++) {
          const result = h().node(id!).propose(new TextEncoder().encode(text), 0);
          if (i === 0 || !result.ok) out.push(result.ok ? `index=${result.index} term=${result.term}` : `refused: ${result.reason}`);
        }
        break;
      }
      case 'read': {
        const result = h().node(args[0]!).readIndex(args[1]!);
        if (!result.ok) out.push(`refused: ${result.reason}`);
        break;
      }
      case 'isolate':
        h().isolate(args[0]!);
        break;
      case 'partition': {
        const split = args.indexOf('/');
        h().partition(args.slice(0, split), args.slice(split + 1));
        break;
      }
      case 'heal':
        h().heal();
        break;
      case 'crash':
        h().crash(args[0]!);
        break;
      case 'restart':
        h().restart(args[0]!);
        break;
      case 'status':
        for (const id of h().ids) out.push(statusLine(h(), id));
        break;
      case 'log':
        out.push(`${args[0]}: ${compactLog(h().logOf(args[0]!))}`);
        break;
      case 'rejections':
        out.push(`${args[0]}: ${h().rejectionsFrom(args[0]!, rejectionMark)} rejection(s)`);
        rejectionMark = h().delivered.length;
        break;
      default:
        throw new Error(`unknown command: ${command}`);
    }
  }
  return out.join('\n');
}

function keyValues(args: readonly string[]): Record<string, string> {
  return Object.fromEntries(args.map((arg) => arg.split('=') as [string, string]));
}

function configOverrides(values: Record<string, string>): Overrides {
  const overrides: Record<string, number | boolean> = {};
  for (const [key, value] of Object.entries(values)) {
    overrides[key] = value === 'true' || value === 'false' ? value === 'true' : Number(value);
  }
  return overrides as Overrides;
}

function statusLine(h: Harness, id: NodeId): string {
  if (!h.isUp(id)) return `${id}: down`;
  const s = h.node(id).status();
  const role = s.preCandidate ? 'pre-candidate' : s.role;
  const reads = h.readStates(id).map((r) => `${r.requestId}@${r.index}`).join(',');
  return `${id}: ${role} term=${s.term} leader=${s.leaderId ?? '-'} last=${s.lastLogIndex}@${s.lastLogTerm} commit=${s.commitIndex} applied=${s.lastApplied}${reads ? ` reads=${reads}` : ''}`;
}

/** `1@1 2@1 3@2` as runs: `1..2@1 3@2`. */
function compactLog(entries: readonly string[]): string {
  const runs: string[] = [];
  let start = 0;
  for (let i = 1; i <= entries.length; i++) {
    const term = (e: string | undefined) => e?.split('@')[1];
    if (i === entries.length || term(entries[i]) !== term(entries[start])) {
      const first = entries[start]!.split('@')[0];
      runs.push(i - start === 1 ? entries[start]! : `${first}..${entries[i - 1]}`);
      start = i;
    }
  }
  return runs.length === 0 ? '(empty)' : runs.join(' ');
}
