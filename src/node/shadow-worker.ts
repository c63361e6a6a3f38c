/**
 * The shadow-state worker (see shadow-state.ts): a second copy of the node's exchange and trade
 * window, fed the same applied entries in the same order, which serialises snapshots on its own
 * thread. Applying is deterministic, so its bytes at index N are the node's bytes at N.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeCommand, Exchange, type TradeView } from '../../domain/index.js';
import { decodeNodeSnapshot, encodeNodeSnapshot, snapshotTradesMax } from './node-snapshot.js';
import type { FromShadow, ShadowInit, ToShadow } from './shadow-protocol.js';
import { TradeHistory } from './trade-history.js';

const port = parentPort;
if (port === null) throw new Error('shadow-worker runs as a worker thread');
const init = workerData as ShadowInit;
const restored = init.snapshot === null ? null : decodeNodeSnapshot(init.snapshot);
const exchange = restored === null ? new Exchange() : Exchange.restore(restored.exchange);
const trades = new TradeHistory<TradeView>(init.limits, init.index, restored?.trades ?? null);

function post(message: FromShadow, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function handle(message: ToShadow): void {
  switch (message.type) {
    case 'entries': {
      const { indexes, timestamps, ends, bytes } = message;
      let start = 0;
      for (let k = 0; k < indexes.length; k++) {
        const index = indexes[k]!;
        const end = ends[k]!;
        const data = end < 0 ? null : bytes.subarray(start, end);
        if (end >= 0) start = end;
        // As the node's projection: entries at or below the applied index were folded already.
        if (index <= exchange.lastAppliedIndex) continue;
        if (data === null) {
          exchange.advanceTo(index);
          continue;
        }
        const command = decodeCommand(data);
        const result = exchange.apply(command, { logIndex: index, timestampMs: timestamps[k]! });
        // Only a fresh PlaceOrder trades, and its reply lists the trades its events would (the
        // same objects, in order): reading the reply spares building every command's events. A
        // retried one answers its original reply (an earlier log index) and trades nothing.
        if (command.type !== 'placeOrder') continue;
        const reply = result.reply;
        if (reply.kind === 'order' && reply.logIndex === index) for (const trade of reply.trades) trades.record(trade);
      }
      post({ type: 'applied', index: exchange.lastAppliedIndex });
      return;
    }
    case 'capture': {
      if (exchange.lastAppliedIndex !== message.index) {
        post({ type: 'failed', message: `capture at ${message.index} but the shadow applied ${exchange.lastAppliedIndex}` });
        return;
      }
      const bytes = encodeNodeSnapshot(exchange.snapshot(), trades.window(snapshotTradesMax));
      post({ type: 'captured', index: message.index, bytes }, [bytes.buffer as ArrayBuffer]);
      return;
    }
  }
}

port.on('message', (message: ToShadow) => {
  try {
    handle(message);
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
