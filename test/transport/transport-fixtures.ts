/** Shared pieces of the loopback transport tests: a scriptable PeerHandler, free ports, polling. */
import { createServer } from 'node:net';
import type { AppendEntries, Message, RequestVote } from '../../src/raft/types.js';
import type { PeerHandler } from '../../src/transport/grpc-server.js';

/** A PeerHandler that records what it got and answers like a cooperative follower unless told otherwise. */
export class ScriptedPeer implements PeerHandler {
  readonly received: Message[] = [];
  readonly readIndexFrom: string[] = [];
  /** Override to change the answer; the default grants votes and accepts appends. */
  answer: (m: Message) => Promise<Message | null> = (m) => Promise.resolve(cooperativeAnswer(m));
  readIndexAnswer: (from: string) => Promise<{ readIndex: number; leaderId: string }> = () =>
    Promise.resolve({ readIndex: 17, leaderId: 'n2' });

  onMessage(m: Message): Promise<Message | null> {
    this.received.push(m);
    return this.answer(m);
  }

  onReadIndex(from: string): Promise<{ readIndex: number; leaderId: string }> {
    this.readIndexFrom.push(from);
    return this.readIndexAnswer(from);
  }
}

/** What a follower with an empty-enough log would answer; requests only. */
export function cooperativeAnswer(m: Message): Message | null {
  switch (m.type) {
    case 'requestVote':
      return voteReply(m, true);
    case 'appendEntries':
      return appendReply(m);
    default:
      return null;
  }
}

export function voteReply(m: RequestVote, granted: boolean, from = m.to): Message {
  return { type: 'requestVoteResponse', from, to: m.from, term: m.term, voteGranted: granted, preVote: m.preVote };
}

export function appendReply(m: AppendEntries, from = m.to): Message {
  return {
    type: 'appendEntriesResponse', from, to: m.from, term: m.term, success: true,
    matchIndex: m.prevLogIndex + m.entries.length, conflictTerm: 0, conflictIndex: 0,
    prevLogIndex: m.prevLogIndex, entryCount: m.entries.length, round: m.round,
  };
}

export function heartbeat(from: string, to: string, round = 0): AppendEntries {
  return { type: 'appendEntries', from, to, term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round };
}

/** A port nothing listens on (it was free a moment ago; good enough on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      server.close(() => resolve(address.port));
    });
  });
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes (then throws `what`). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
