/**
 * What the chaos clients did and saw: every keyed write (deposit, withdraw, order) with its
 * outcome, the cancels/reduces, and each client's trade stream. The checker reads only this and
 * the cluster's final state.
 */
export type WriteKind = 'deposit' | 'withdraw' | 'order';

export type WriteOutcome =
  /** The cluster answered OK or FAILED_PRECONDITION: the entry is committed at `logIndex`. */
  | { readonly kind: 'acked'; readonly logIndex: number; readonly ok: boolean; readonly orderId: string; readonly summary: string }
  /** No answer we can trust (timeouts, leader changes): may or may not have applied. */
  | { readonly kind: 'uncertain'; readonly lastError: string };

export interface KeyedWrite {
  readonly kind: WriteKind;
  readonly key: string;
  /** Resends the identical request to some node; resolves with what the cluster now says. */
  readonly resend: () => Promise<{ logIndex: number; ok: boolean; orderId: string; summary: string }>;
  /** Asset deltas this write intends if it applies OK (deposits/withdrawals only). */
  readonly asset: string;
  readonly amountCents: bigint;
  outcome: WriteOutcome;
}

export interface SeenTrade {
  readonly tradeId: string;
  readonly logIndex: number;
}

export class ChaosHistory {
  readonly writes: KeyedWrite[] = [];
  readonly acknowledgedCancels: { orderId: string; accountId: string }[] = [];
  readonly streams: SeenTrade[][] = [];
  ops = 0;
  faults = 0;
  readonly faultLog: string[] = [];

  acked(): number {
    return this.writes.filter((w) => w.outcome.kind === 'acked').length + this.acknowledgedCancels.length;
  }
}
