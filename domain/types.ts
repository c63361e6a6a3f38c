/**
 * The exchange vocabulary shared by the domain, the node runtime and the gRPC services:
 * commands (what travels in the log), replies (what the caller gets back), events (what the
 * state machine emitted) and read views. Everything is plain data with decimals as plain strings,
 * so values can be compared, serialised and hashed without knowing the engine.
 */

export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok';
export type OrderStatus = 'new' | 'partiallyFilled' | 'filled' | 'cancelled';

/**
 * Commands as they travel in the log. Decimals are canonical plain strings ("13.37", never
 * "13.370" or "013.37"): `validateCommand` produces them, and the idempotency check compares
 * fields textually, so only validated commands should reach `Exchange.apply`.
 */
export type Command =
  | { type: 'deposit'; accountId: string; asset: string; amount: string; requestId: string }
  | { type: 'withdraw'; accountId: string; asset: string; amount: string; requestId: string }
  | {
      type: 'placeOrder';
      accountId: string;
      clientOrderId: string;
      symbol: string;
      side: Side;
      orderType: OrderType;
      timeInForce: TimeInForce;
      quantity: string;
      price: string | null;
    }
  | { type: 'cancelOrder'; accountId: string; orderId: string }
  | { type: 'reduceOrder'; accountId: string; orderId: string; quantity: string };

export type CommandType = Command['type'];
export type PlaceOrderCommand = Extract<Command, { type: 'placeOrder' }>;
export type DepositCommand = Extract<Command, { type: 'deposit' }>;
export type WithdrawCommand = Extract<Command, { type: 'withdraw' }>;
export type CancelOrderCommand = Extract<Command, { type: 'cancelOrder' }>;
export type ReduceOrderCommand = Extract<Command, { type: 'reduceOrder' }>;

/** A place-order request before edge validation: the time in force may be left to its default. */
export interface RawPlaceOrder {
  accountId: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  /** null = the default: gtc for limit orders, ioc for market orders. */
  timeInForce: TimeInForce | null;
  quantity: string;
  price: string | null;
}

/** What the log entry contributes to applying a command: its index and the leader's clock. */
export interface ApplyContext {
  logIndex: number;
  timestampMs: number;
}

export interface BalanceView {
  asset: string;
  available: string;
  reserved: string;
}

export interface TradeView {
  tradeId: string;
  symbol: string;
  price: string;
  quantity: string;
  buyOrderId: string;
  sellOrderId: string;
  buyerAccountId: string;
  sellerAccountId: string;
  aggressorSide: Side;
  logIndex: number;
  timestampMs: number;
}

export interface OrderView {
  orderId: string;
  clientOrderId: string;
  accountId: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  timeInForce: TimeInForce;
  /** null for market orders. */
  price: string | null;
  /** The current total after reduces (a cancel leaves it as it was). */
  quantity: string;
  filledQuantity: string;
  remainingQuantity: string;
  status: OrderStatus;
}

export interface LevelView {
  price: string;
  quantity: string;
  orderCount: number;
}

export interface OrderBookView {
  bids: LevelView[];
  asks: LevelView[];
}

/** Why the state machine refused a command (gRPC FAILED_PRECONDITION). */
export type RejectReason =
  | 'insufficientFunds'
  | 'unknownSymbol'
  | 'unknownAsset'
  | 'unknownOrder'
  | 'notOrderOwner'
  | 'orderNotOpen'
  | 'duplicateKeyMismatch'
  | 'limitExceeded'
  /** A field the edge should have refused (bad decimal, not a lot multiple for the order's symbol). */
  | 'invalidCommand';

/**
 * What the caller of a command gets back. Deterministic; stored in the dedup table so a repeated
 * request returns the identical reply (same logIndex).
 */
export type Reply =
  | { kind: 'balance'; logIndex: number; balance: BalanceView }
  | {
      kind: 'order';
      logIndex: number;
      orderId: string;
      status: OrderStatus;
      filledQuantity: string;
      remainingQuantity: string;
      trades: TradeView[];
      /**
       * Why the order's own entry cancelled its remainder ('ioc', 'market', 'fok', 'selfTrade');
       * null when the order filled or rested.
       */
      cancelCause: PlacementCancelCause | null;
    }
  | { kind: 'cancel'; logIndex: number; orderId: string; status: OrderStatus; cancelledQuantity: string }
  | { kind: 'reduce'; logIndex: number; orderId: string; status: OrderStatus; remainingQuantity: string }
  | { kind: 'rejected'; logIndex: number; reason: RejectReason; message: string };

/** Why an order (or its remainder) left the book without filling. */
export type CancelCause = 'user' | 'ioc' | 'market' | 'fok' | 'selfTrade' | 'reduced';
/** The causes that can cancel an order during its own entry (the others come later, by command). */
export type PlacementCancelCause = Exclude<CancelCause, 'user' | 'reduced'>;

/** What applying a command did, in order. Events of one command share its log index. */
export type Event =
  | { type: 'fundsDeposited'; accountId: string; asset: string; amount: string; requestId: string }
  | { type: 'fundsWithdrawn'; accountId: string; asset: string; amount: string; requestId: string }
  | {
      type: 'orderAccepted';
      orderId: string;
      accountId: string;
      clientOrderId: string;
      symbol: string;
      side: Side;
      orderType: OrderType;
      timeInForce: TimeInForce;
      price: string | null;
      quantity: string;
    }
  | { type: 'orderRejected'; accountId: string; clientOrderId: string; symbol: string; reason: RejectReason; message: string }
  /** A deposit, withdraw, cancel or reduce refused by the state machine. */
  | { type: 'commandRejected'; commandType: CommandType; accountId: string; reason: RejectReason; message: string }
  | { type: 'tradeExecuted'; trade: TradeView }
  | { type: 'orderReduced'; orderId: string; accountId: string; reducedBy: string; quantity: string; remainingQuantity: string }
  | { type: 'orderCancelled'; orderId: string; accountId: string; cause: CancelCause; cancelledQuantity: string }
  | { type: 'orderFilled'; orderId: string; accountId: string };

export type EventType = Event['type'];

export interface ApplyResult {
  reply: Reply;
  events: Event[];
}
