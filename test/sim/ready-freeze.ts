import type { Ready } from '../../src/raft/types.js';

/**
 * Freeze what the core handed out: the driver keeps these objects (in storage, on the wire), so a
 * core that later mutates one would corrupt them silently. Frozen, the mutation throws instead
 * (ESM is strict mode) and is reported as coreThrew. Entry bytes cannot be frozen and are not.
 */
export function freezeReady(rd: Ready): void {
  for (const e of rd.entries) Object.freeze(e);
  for (const e of rd.committed) Object.freeze(e);
  for (const m of rd.messages) {
    if (m.type === 'appendEntries') {
      for (const e of m.entries) Object.freeze(e);
      Object.freeze(m.entries);
    }
    Object.freeze(m);
  }
  Object.freeze(rd.entries);
  Object.freeze(rd.committed);
  Object.freeze(rd.messages);
  Object.freeze(rd.readStates);
  if (rd.hardState !== null) Object.freeze(rd.hardState);
}
