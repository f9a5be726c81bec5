import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsBlock, StatsReader } from '../../../src/l4/connection-stats.ts';
import { SERVICE_SLOT, SlotCounters } from '../../../src/l4/slot-counters.ts';

describe('connection stats and counters', () => {
  it('counts per server and per service, and sums the blocks of all threads', () => {
    const main = new StatsBlock(8);
    const worker = StatsBlock.shared(8);
    const reader = new StatsReader(8);
    reader.addBlock(main);
    reader.addBlock(worker);
    main.countConnection(1, true);
    main.countIn(1, 100);
    main.countOut(1, 300);
    worker.countConnection(2, true);
    worker.countConnection(1, false); // a retry of the same client connection
    worker.countIn(1, 50);
    worker.countConnectFailure(2);
    assert.deepEqual(
      { ...reader.read(1) },
      {
        conns: 2,
        inPkts: 2,
        outPkts: 1,
        inBytes: 150,
        outBytes: 300,
        connectFailures: 0,
        noDestination: 0,
        pauses: 0,
      },
    );
    const service = reader.read(SERVICE_SLOT);
    assert.equal(service.conns, 2, 'the service counts each client connection once');
    assert.equal(service.inBytes, 150);
    assert.equal(service.connectFailures, 1);
  });

  it('starts a reused slot from zero', () => {
    const block = new StatsBlock(4);
    const reader = new StatsReader(4);
    reader.addBlock(block);
    block.countConnection(3, true);
    block.countIn(3, 10);
    reader.rebase(3);
    assert.equal(reader.read(3).conns, 0);
    block.countIn(3, 5);
    assert.equal(reader.read(3).inBytes, 5);
  });

  it('keeps a thread share of the shared counters so it can be given back', () => {
    const counters = SlotCounters.shared(4);
    const block = new StatsBlock(4);
    counters.add(2, 1, 0);
    block.trackOwn(2, 1, 0);
    counters.add(2, 0, 2);
    block.trackOwn(2, 0, 2);
    assert.deepEqual([counters.active(2), counters.inactive(2)], [1, 2]);
    assert.deepEqual([counters.active(SERVICE_SLOT), counters.inactive(SERVICE_SLOT)], [1, 2]);
    counters.add(2, -block.ownActive(2), -block.ownInactive(2));
    assert.deepEqual(
      [counters.active(2), counters.inactive(2), counters.active(0), counters.inactive(0)],
      [0, 0, 0, 0],
    );
    const folded = new StatsBlock(4);
    block.countConnection(2, true);
    block.addAllTo(folded);
    assert.equal(folded.connections(2), 1);
  });
});
