/**
 * The PlaceOrder reply of an accepted order, rebuilt from the order itself: an accepted order is
 * its own idempotency record (a retry with the same client order id gets this reply again), and
 * its result builds the reply from it on first read (apply-results.ts).
 */
import { lotsText } from './exchange-state.js';
import type { Order } from './order-book.js';
import type { Reply, TradeView } from './types.js';

/**
 * The trades of a reply without trades. One shared frozen array instead of a fresh `[]` per
 * reply (most orders trade nothing); frozen so that a caller cannot push into every reply at once.
 */
const noTrades = Object.freeze([]) as unknown as TradeView[];

/** The PlaceOrder reply of an accepted order: its state right after its own entry. */
export function placedReply(order: Order): Extract<Reply, { kind: 'order' }> {
  const m = order.market;
  return {
    kind: 'order', logIndex: order.seq, orderId: order.id, status: order.placedStatus,
    filledQuantity: lotsText(m, order.placedFilledLots),
    remainingQuantity: lotsText(m, order.placedRemainingLots),
    trades: order.placedTrades ?? noTrades,
    cancelCause: order.placedCancelCause,
  };
}
