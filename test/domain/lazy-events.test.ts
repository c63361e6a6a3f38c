/**
 * Events of the hot commands are built on first read (domain/apply-results.ts). They must not
 * depend on WHEN they are read: reading every result's events right after its apply and reading
 * them all only at the end (after the state has moved on: orders filled, reduced, cancelled,
 * forgotten) must give byte-identical events, and every result must serialise as { reply, events }.
 */
import { describe, expect, it } from 'vitest';
import { defaultExchangeConfig, Exchange, type ApplyResult } from '../../domain/index.js';
import { randomCommands } from './random-commands.js';

const seeds = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [31, 32, 33];
const steps = 2000;

describe('lazily built events', () => {
  for (const seed of seeds) {
    it(`are identical whether read at once or after the whole history (SEED=${seed})`, () => {
      const commands = randomCommands(seed, steps);
      // Small retention limits, so late reads also cover orders the state has already forgotten.
      const config = { ...defaultExchangeConfig, closedOrdersMax: 50, dedupKeysPerAccountMax: 60 };
      const eager = new Exchange(config);
      const late = new Exchange(config);
      const eagerJson: string[] = [];
      const held: ApplyResult[] = [];
      commands.forEach((c, i) => {
        const ctx = { logIndex: i + 1, timestampMs: 1_000 + i };
        const r = eager.apply(c, ctx);
        eagerJson.push(JSON.stringify({ reply: r.reply, events: r.events }));
        held.push(late.apply(c, ctx));
      });
      const lateJson = held.map((r) => JSON.stringify({ reply: r.reply, events: r.events }));
      for (let i = 0; i < steps; i++) expect(lateJson[i], `SEED=${seed} entry ${i + 1}`).toBe(eagerJson[i]);
      // JSON.stringify of the result itself (toJSON) shows the same reply and events.
      for (let i = 0; i < steps; i++) expect(JSON.stringify(held[i]), `SEED=${seed} entry ${i + 1}`).toBe(lateJson[i]);
      // Reading twice gives the same array (built once).
      const sample = held.find((r) => r.events.length > 2);
      expect(sample, `SEED=${seed}: no multi-event result`).toBeDefined();
      expect(sample!.events).toBe(sample!.events);
      // Each trade in an order reply has its tradeExecuted event, in order.
      for (const r of held) {
        if (r.reply.kind !== 'order' || r.events.length === 0) continue;
        const traded = r.events.flatMap((e) => (e.type === 'tradeExecuted' ? [e.trade] : []));
        expect(traded, `SEED=${seed}`).toEqual(r.reply.trades);
      }
    });
  }
});
