import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalityLeastConnectionScheduler } from '../../../src/balance/lblc.ts';
import { LOCALITY_DEFAULT_EXPIRATION_MS } from '../../../src/balance/locality-table.ts';
import { isHastackError } from '../../../src/core/errors.ts';
import { ctx, dests } from './helpers.ts';

const HOUR = 60 * 60 * 1000;
const at = (now: number, destHost = '203.0.113.7') => ctx({ now, destHost });

describe('lblc', () => {
  it('gives a new destination IP the wlc choice and keeps it there', () => {
    const s = new LocalityLeastConnectionScheduler();
    const list = dests({ A: 2, B: 2, C: 2 });
    list[0]!.activeConns = 1;
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'B');
    // B gets busier than the others but not beyond its weight: affinity holds.
    list[1]!.activeConns = 2;
    for (let t = 1; t < 5; t++) assert.equal(s.pick(at(t))?.key, 'B');
    assert.equal(s.pick(at(5, '203.0.113.8'))?.key, 'C', 'another destination IP: wlc');
    assert.equal(s.entryCount, 2);
  });

  it('leaves the cached server when active > weight while some server is below half its weight', () => {
    const s = new LocalityLeastConnectionScheduler();
    const list = dests({ A: 2, B: 4 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.activeConns = 3; // > weight 2
    list[1]!.activeConns = 2; // 2·2 < 4 is false: nobody is below half
    assert.equal(s.pick(at(1))?.key, 'A');
    list[1]!.activeConns = 1; // 1·2 < 4: B has room
    assert.equal(s.pick(at(2))?.key, 'B');
    assert.equal(s.cachedServerOf('203.0.113.7')?.key, 'B', 'the entry now points at B');
    list[0]!.activeConns = 0;
    assert.equal(s.pick(at(3))?.key, 'B');
  });

  it('re-picks when the cached server is quiesced or leaves; a server that returns is the same', () => {
    const s = new LocalityLeastConnectionScheduler();
    const list = dests({ A: 1, B: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.weight = 0;
    assert.equal(s.pick(at(1))?.key, 'B');
    list[0]!.weight = 1;
    assert.equal(s.pick(at(2))?.key, 'B', 'the entry moved to B');
    s.update([list[0]!]); // B leaves
    assert.equal(s.pick(at(3))?.key, 'A');
    // A leaves and comes back (a new object with the same key) before any pick.
    s.update([list[1]!]);
    s.update(dests({ A: 1, B: 1 }));
    assert.equal(s.pick(at(4))?.key, 'A');
  });

  it('as the kernel: the u_threshold flag of the cached server is not consulted', () => {
    const s = new LocalityLeastConnectionScheduler();
    const list = dests({ A: 1, B: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.overloaded = true;
    assert.equal(s.pick(at(1))?.key, 'A');
    assert.equal(s.pick(at(2, '203.0.113.99'))?.key, 'B', 'a new destination IP avoids it');
  });

  it('expires an entry after 24 h without lookups, and lookups keep it alive', () => {
    const s = new LocalityLeastConnectionScheduler();
    const list = dests({ A: 1, B: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.inactiveConns = 5; // wlc would now choose B
    assert.equal(s.pick(at(23 * HOUR))?.key, 'A');
    assert.equal(s.pick(at(46 * HOUR))?.key, 'A', '23 h after the last lookup');
    assert.equal(s.pick(at(46 * HOUR + LOCALITY_DEFAULT_EXPIRATION_MS - 1))?.key, 'A');
    const last = 46 * HOUR + LOCALITY_DEFAULT_EXPIRATION_MS - 1;
    assert.equal(s.pick(at(last + LOCALITY_DEFAULT_EXPIRATION_MS))?.key, 'B', 'expired: chosen afresh');
  });

  it('honours a custom expiration', () => {
    const s = new LocalityLeastConnectionScheduler({ expirationMs: 1000 });
    const list = dests({ A: 1, B: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.inactiveConns = 1;
    assert.equal(s.pick(at(999))?.key, 'A');
    assert.equal(s.pick(at(1999))?.key, 'B');
    assert.throws(
      () => new LocalityLeastConnectionScheduler({ expirationMs: 0 }),
      (e) => isHastackError(e, 'HASTACK_BALANCE_INVALID_OPTION'),
    );
  });

  it('collects idle entries when the table is over-full, and sweeps expired ones every 30 min', () => {
    const s = new LocalityLeastConnectionScheduler({ maxEntries: 10, expirationMs: 10 * 60_000 });
    s.update(dests({ A: 1 }));
    for (let i = 0; i < 30; i++) s.pick(at(0, `203.0.113.${i}`));
    assert.equal(s.entryCount, 30);
    s.pick(at(30_000, 'fresh-1')); // the first minute has not passed
    assert.equal(s.entryCount, 31);
    // 7 min: over-full by 21 → up to min(28, 5) entries idle ≥ 6 min go.
    s.pick(at(7 * 60_000, 'fresh-2'));
    assert.equal(s.entryCount, 31 - 5 + 1);
    // 30 min: full sweep of entries idle ≥ 10 min.
    s.pick(at(30 * 60_000, 'fresh-3'));
    assert.equal(s.entryCount, 1);
  });

  it('returns undefined when nothing can take a new destination IP', () => {
    const s = new LocalityLeastConnectionScheduler();
    assert.equal(s.pick(at(0)), undefined);
    s.update(dests({ A: 0, B: 0 }));
    assert.equal(s.pick(at(0)), undefined);
    assert.equal(s.entryCount, 0);
  });
});
