/**
 * grpc.health.v1 status of the node: SERVING once it knows a leader and has applied everything
 * that was committed when it first learned of one (so a restarted node does not serve reads of a
 * state older than what it had already acknowledged). Once serving it stays serving: losing the
 * leader later is reported per request (UNAVAILABLE), not by flapping health.
 */
import type { LogIndex, NodeId } from '../raft/types.js';

export interface HealthInputs {
  readonly leaderId: NodeId | null;
  readonly commitIndex: LogIndex;
  readonly lastApplied: LogIndex;
}

export class HealthGate {
  private target: LogIndex | null = null;
  private serving = false;

  /** `startCommitIndex` is the commit index this node had persisted when it started. */
  constructor(private readonly startCommitIndex: LogIndex, private readonly onServing: () => void) {}

  get isServing(): boolean {
    return this.serving;
  }

  /** Re-evaluates; calls `onServing` exactly once, the first time the node qualifies. */
  update(inputs: HealthInputs): void {
    if (this.serving || inputs.leaderId === null) return;
    this.target ??= Math.max(this.startCommitIndex, inputs.commitIndex);
    if (inputs.lastApplied < this.target) return;
    this.serving = true;
    this.onServing();
  }
}
