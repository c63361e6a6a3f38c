/**
 * The membership parts of the node's plumbing: the snapshot meta's membership on the wire
 * (InstallSnapshot), the member directory (addresses: --peers over the configuration, own
 * --listen for itself) and the peer clients following a changing peer set.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotMeta as RaftSnapshotMeta } from '../../src/gen/raftex/v1/raft.js';
import { MemberDirectory } from '../../src/node/member-directory.js';
import { applyMembershipChange, encodeMembership, initialMembership, type Membership } from '../../src/raft/membership.js';
import { MessageDecodeError, snapshotMetaFromWire, snapshotMetaToWire } from '../../src/transport/message-codec.js';
import { PeerClients } from '../../src/transport/peer-clients.js';

const membership = applyMembershipChange(initialMembership(['n1', 'n2']), { type: 'addLearner', id: 'n3', address: '10.0.0.3:7003' }) as Membership;

describe('snapshot meta membership on the wire', () => {
  it('round-trips through the protobuf bytes; absent stays absent', () => {
    const meta = { index: 40, term: 3, voters: ['n1', 'n2'], learners: ['n3'], timestampMs: 7, membership };
    const bytes = RaftSnapshotMeta.encode(snapshotMetaToWire(meta)).finish();
    expect(snapshotMetaFromWire(RaftSnapshotMeta.decode(bytes))).toEqual(meta);
    const bare = { index: 40, term: 3, voters: ['n1'], learners: [], timestampMs: 7 };
    expect(snapshotMetaFromWire(RaftSnapshotMeta.decode(RaftSnapshotMeta.encode(snapshotMetaToWire(bare)).finish()))).toEqual(bare);
  });

  it('rejects membership bytes that do not decode or disagree with the ids', () => {
    const wire = snapshotMetaToWire({ index: 1, term: 1, voters: ['n1', 'n2'], learners: ['n3'], membership });
    expect(() => snapshotMetaFromWire({ ...wire, membership: Buffer.from('{"v":') })).toThrow(MessageDecodeError);
    expect(() => snapshotMetaFromWire({ ...wire, voters: ['n1'] })).toThrow(/same voters/);
    expect(() => snapshotMetaFromWire({ ...wire, membership: Buffer.from(encodeMembership(initialMembership(['n1', 'n2']))) })).toThrow(MessageDecodeError);
  });
});

describe('MemberDirectory', () => {
  const directory = new MemberDirectory('n1', '127.0.0.1:7001', new Map([['n2', 'proxy:9002'], ['n9', 'h:9']]));

  it('addresses: own --listen, then --peers, then the configuration; learners flagged', () => {
    expect(directory.members(membership)).toEqual([
      { id: 'n1', address: '127.0.0.1:7001', voter: true },
      { id: 'n2', address: 'proxy:9002', voter: true },
      { id: 'n3', address: '10.0.0.3:7003', voter: false },
    ]);
    expect(directory.addressOfId(membership, 'n3')).toBe('10.0.0.3:7003');
    expect(directory.addressOfId(membership, 'n9')).toBe('h:9');
    expect(directory.addressOfId(membership, 'n7')).toBeNull();
  });

  it('peers: the other members with an address; --peers too while this node is not a member', () => {
    const withUnknown = applyMembershipChange(membership, { type: 'addLearner', id: 'n4', address: '' }) as Membership;
    expect(directory.peers(withUnknown)).toEqual({ peers: new Map([['n2', 'proxy:9002'], ['n3', '10.0.0.3:7003']]), unreachable: ['n4'] });
    const joining = new MemberDirectory('n5', 'h:5', new Map([['n1', 'h:1']]));
    expect(joining.peers({ voters: [], learners: [] }).peers).toEqual(new Map([['n1', 'h:1']]));
    expect(joining.peers(membership).peers).toEqual(new Map([['n1', 'h:1'], ['n3', '10.0.0.3:7003']]));
  });
});

describe('PeerClients.setPeers', () => {
  it('adds new peers, closes removed ones, reconnects a changed address, keeps the rest', () => {
    const clients = new PeerClients(new Map([['n2', '127.0.0.1:1'], ['n3', '127.0.0.1:2']]), () => undefined);
    try {
      clients.setPeers(new Map([['n2', '127.0.0.1:1'], ['n3', '127.0.0.1:3'], ['n4', '127.0.0.1:4']]));
      expect(clients.addresses()).toEqual(new Map([['n2', '127.0.0.1:1'], ['n3', '127.0.0.1:3'], ['n4', '127.0.0.1:4']]));
      clients.setPeers(new Map([['n4', '127.0.0.1:4']]));
      expect(clients.addresses()).toEqual(new Map([['n4', '127.0.0.1:4']]));
      // A message to a removed peer is dropped, not sent.
      clients.send({ type: 'timeoutNow', from: 'n1', to: 'n2', term: 1 });
      expect(clients.unroutableCount()).toBe(1);
    } finally {
      clients.close();
    }
  });
});
