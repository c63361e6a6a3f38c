// load.mjs driver: raftex's orders over OrderEntry sessions (see raftex.mjs).
export { createSessionDriver as createDriver } from './raftex.mjs';
