/**
 * The exchange's configuration: which assets and instruments exist, and every named limit of the
 * replicated state. All replicas must run with the same config (the snapshot records a digest of
 * it and `restore` refuses a different one).
 */
import { compileStep, Decimal, plainDecimalPattern, StepFormatter, type Step } from './money.js';

/** An asset that is not an instrument's shares, e.g. cash. `unit` is its smallest amount. */
export interface AssetSpec {
  asset: string;
  /** '0.01' for USD: amounts have at most 2 decimals. */
  unit: string;
}

/**
 * One tradable instrument. Its shares are an asset named like the symbol, whose unit is the lot;
 * prices are quoted in `quoteAsset` per share. tick x lot must be a whole number of quote units
 * so that price x quantity is always exact (whole cents).
 */
export interface InstrumentSpec {
  symbol: string;
  quoteAsset: string;
  tickSize: string;
  lotSize: string;
}

export interface ExchangeConfig {
  /** Cash-like assets (quote currencies). */
  assets: AssetSpec[];
  instruments: InstrumentSpec[];
  /** Largest price accepted, in quote currency per share. */
  priceMax: string;
  /** Largest order or reduce quantity accepted, in shares. */
  quantityMax: string;
  /** Largest single deposit or withdrawal accepted. */
  amountMax: string;
  /**
   * Most units of one asset that may be deposited-but-not-withdrawn in total. Every balance is a
   * part of this total, so no balance and no sum of balances can leave the safe-integer range.
   */
  assetSupplyUnitsMax: number;
  /**
   * Dedup retention: per account, the last N client order ids and (separately) the last N
   * deposit/withdraw request ids are kept in insertion order; inserting key N+1 evicts the
   * oldest of that kind. An evicted key can be reused as a fresh request.
   */
  dedupKeysPerAccountMax: number;
  /**
   * Dedup retention exchange-wide: only the last N keys added over all accounts (client order
   * ids and request ids together) are kept, oldest evicted first (dedup-ring.ts). Bounds the
   * whole table, so snapshots and restarts do not grow with the number of accounts.
   */
  dedupKeysMax: number;
  /** Closed (filled/cancelled) orders remembered for queries and "not open" answers, oldest evicted first. */
  closedOrdersMax: number;
  /** Open orders one account may have; placing a resting order beyond it is rejected (limitExceeded). */
  openOrdersPerAccountMax: number;
  /** Most price levels `orderBook()` returns per side. */
  bookDepthMax: number;
}

/** Four NASDAQ names quoted in USD, tick 0.01, lot 1. */
export const defaultExchangeConfig: ExchangeConfig = {
  assets: [{ asset: 'USD', unit: '0.01' }],
  instruments: ['AAPL', 'AMZN', 'GOOG', 'MSFT'].map((symbol) => ({
    symbol,
    quoteAsset: 'USD',
    tickSize: '0.01',
    lotSize: '1',
  })),
  priceMax: '1000000',
  quantityMax: '1000000',
  amountMax: '1000000000000',
  assetSupplyUnitsMax: 2 ** 52,
  dedupKeysPerAccountMax: 100_000,
  dedupKeysMax: 100_000,
  closedOrdersMax: 100_000,
  openOrdersPerAccountMax: 1_000_000,
  bookDepthMax: 1000,
};

/** Syntax of asset names and symbols. */
export const assetNamePattern = /^[A-Z0-9.]{1,16}$/;
/** Syntax of every id (account, order, client order, request). */
export const idPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** A compiled asset: its name, unit and a dense index for fast tables. */
export interface AssetInfo {
  readonly name: string;
  readonly unit: Step;
  /** Formats amounts in units of `unit`. */
  readonly format: StepFormatter;
  /** Largest single deposit/withdrawal, in units. */
  readonly amountUnitsMax: number;
}

/** A compiled instrument: integer ticks and lots, and how many quote units one tick x lot is. */
export interface MarketInfo {
  readonly symbol: string;
  readonly tick: Step;
  readonly lot: Step;
  /** Formats prices in ticks. */
  readonly priceFormat: StepFormatter;
  readonly base: AssetInfo;
  readonly quote: AssetInfo;
  /** Quote units per (tick x lot): notional = priceTicks * lots * quotePerTickLot. */
  readonly quotePerTickLot: number;
  readonly priceTicksMax: number;
  readonly quantityLotsMax: number;
}

/** The config turned into integer tables, checked once. */
export interface CompiledConfig {
  readonly source: ExchangeConfig;
  readonly assets: ReadonlyMap<string, AssetInfo>;
  readonly markets: ReadonlyMap<string, MarketInfo>;
  /** Canonical JSON of the source config, recorded in snapshots. */
  readonly digestText: string;
}

function stepsAtMost(max: string, step: Step, what: string): number {
  const n = new Decimal(max).div(step.text).floor();
  if (n.lt(1) || n.gt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`config: ${what} out of range`);
  return n.toNumber();
}

/** Validates and compiles a config; throws RangeError on a config that could break exactness. */
export function compileConfig(config: ExchangeConfig): CompiledConfig {
  const assets = new Map<string, AssetInfo>();
  const addAsset = (name: string, unitText: string): AssetInfo => {
    if (!assetNamePattern.test(name)) throw new RangeError(`config: bad asset name ${name}`);
    if (assets.has(name)) throw new RangeError(`config: duplicate asset ${name}`);
    const unit = compileStep(unitText, `unit of ${name}`);
    const info: AssetInfo = { name, unit, format: new StepFormatter(unit), amountUnitsMax: stepsAtMost(config.amountMax, unit, `amountMax of ${name}`) };
    assets.set(name, info);
    return info;
  };
  for (const a of config.assets) addAsset(a.asset, a.unit);
  const markets = new Map<string, MarketInfo>();
  for (const inst of config.instruments) {
    const quote = assets.get(inst.quoteAsset);
    if (!quote) throw new RangeError(`config: ${inst.symbol} quotes unknown asset ${inst.quoteAsset}`);
    const base = addAsset(inst.symbol, inst.lotSize);
    const tick = compileStep(inst.tickSize, `tick of ${inst.symbol}`);
    const lot = base.unit;
    const perTickLot = new Decimal(tick.text).mul(lot.text).div(quote.unit.text);
    if (!perTickLot.isInteger()) {
      throw new RangeError(`config: ${inst.symbol}: tick x lot is not a whole number of ${quote.name} units`);
    }
    const market: MarketInfo = {
      symbol: inst.symbol,
      tick,
      lot,
      priceFormat: new StepFormatter(tick),
      base,
      quote,
      quotePerTickLot: perTickLot.toNumber(),
      priceTicksMax: stepsAtMost(config.priceMax, tick, `priceMax of ${inst.symbol}`),
      quantityLotsMax: stepsAtMost(config.quantityMax, lot, `quantityMax of ${inst.symbol}`),
    };
    // The largest order's notional must be exact in a double.
    const notionalMax = new Decimal(market.priceTicksMax).mul(market.quantityLotsMax).mul(market.quotePerTickLot);
    if (notionalMax.gt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`config: ${inst.symbol}: priceMax x quantityMax overflows`);
    markets.set(inst.symbol, market);
  }
  const limits: [string, number][] = [
    ['assetSupplyUnitsMax', config.assetSupplyUnitsMax],
    ['dedupKeysPerAccountMax', config.dedupKeysPerAccountMax],
    ['dedupKeysMax', config.dedupKeysMax],
    ['closedOrdersMax', config.closedOrdersMax],
    ['openOrdersPerAccountMax', config.openOrdersPerAccountMax],
    ['bookDepthMax', config.bookDepthMax],
  ];
  for (const [name, v] of limits) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`config: ${name} must be a positive safe integer`);
  }
  // Every balance and every sum of balances of one asset is at most the asset's supply; the
  // margin keeps `supply + one deposit` exact when checking the limit.
  if (config.assetSupplyUnitsMax > 2 ** 52) throw new RangeError('config: assetSupplyUnitsMax above 2^52');
  for (const text of [config.priceMax, config.quantityMax, config.amountMax]) {
    if (!plainDecimalPattern.test(text) || !new Decimal(text).gt(0)) throw new RangeError(`config: bad maximum ${text}`);
  }
  return { source: config, assets, markets, digestText: JSON.stringify(config) };
}

const compiledConfigs = new WeakMap<ExchangeConfig, CompiledConfig>();

/** `compileConfig`, memoised per config object (configs are treated as immutable once used). */
export function compiledConfigOf(config: ExchangeConfig): CompiledConfig {
  let c = compiledConfigs.get(config);
  if (!c) {
    c = compileConfig(config);
    compiledConfigs.set(config, c);
  }
  return c;
}
