/**
 * The fault schedule, drawn from the seed: SIGKILL and restart (often the leader), isolating a
 * node (often the leader), majority/minority splits, one-way partitions and slow links. One fault
 * at a time, each held for a while and then healed, so the cluster keeps making progress between.
 */
import type { ChaosCluster, ChaosNode } from './chaos-cluster.js';
import type { ChaosHistory } from './chaos-history.js';
import type { Prng } from './prng.js';

type FaultKind = 'kill' | 'isolate' | 'split' | 'oneWay' | 'slow';
const faultKinds: readonly FaultKind[] = ['kill', 'kill', 'isolate', 'split', 'oneWay', 'slow'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function injectFaults(cluster: ChaosCluster, rng: Prng, history: ChaosHistory, until: number,
  log: (line: string) => void): Promise<void> {
  while (Date.now() < until - 3000) {
    await sleep(1000 + rng.int(2000));
    const leader = await cluster.leader();
    const victim = (): ChaosNode => (leader && rng.int(2) === 0 ? leader : rng.pick(cluster.nodes));
    const kind = rng.pick(faultKinds);
    const holdMs = 1000 + rng.int(2500);
    history.faults++;
    switch (kind) {
      case 'kill': {
        const node = victim();
        log(`fault: SIGKILL ${node.id}${node === leader ? ' (leader)' : ''}, restart in ${holdMs} ms`);
        cluster.kill(node);
        await sleep(holdMs);
        cluster.spawnNode(node);
        break;
      }
      case 'isolate': {
        const node = victim();
        log(`fault: isolate ${node.id}${node === leader ? ' (leader)' : ''} for ${holdMs} ms`);
        cluster.partition([node], cluster.nodes.filter((n) => n !== node));
        await sleep(holdMs);
        cluster.healLinks();
        break;
      }
      case 'split': {
        const shuffled = [...cluster.nodes].sort(() => rng.next() - 0.5);
        const minority = shuffled.slice(0, Math.floor(cluster.nodes.length / 2));
        const majority = shuffled.slice(minority.length);
        log(`fault: split [${minority.map((n) => n.id)}] | [${majority.map((n) => n.id)}] for ${holdMs} ms`);
        cluster.partition(minority, majority);
        await sleep(holdMs);
        cluster.healLinks();
        break;
      }
      case 'oneWay': {
        const from = victim();
        log(`fault: one-way: ${from.id} cannot send for ${holdMs} ms`);
        for (const to of cluster.nodes) if (to !== from) cluster.setLink(from, to, { kind: 'cut' });
        await sleep(holdMs);
        cluster.healLinks();
        break;
      }
      case 'slow': {
        const node = victim();
        const delayMs = 20 + rng.int(150);
        log(`fault: slow links of ${node.id} (+${delayMs} ms) for ${holdMs} ms`);
        for (const other of cluster.nodes) {
          if (other === node) continue;
          cluster.setLink(node, other, { kind: 'slow', delayMs });
          cluster.setLink(other, node, { kind: 'slow', delayMs });
        }
        await sleep(holdMs);
        cluster.healLinks();
        break;
      }
      default: {
        const never: never = kind;
        throw new Error(`unknown fault ${String(never)}`);
      }
    }
    history.faultLog.push(kind);
  }
}

/** Heals every link and restarts every dead node. */
export function healAll(cluster: ChaosCluster): void {
  cluster.healLinks();
  for (const n of cluster.nodes) if (!cluster.isUp(n)) cluster.spawnNode(n);
}
