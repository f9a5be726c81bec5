import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaglevHashScheduler } from '../../../src/balance/mh.ts';
import type { Destination } from '../../../src/balance/types.ts';
import { isHastackError } from '../../../src/core/errors.ts';
import { clientAddress, ctx, dest, shares } from './helpers.ts';

function servers(weights: number[]): Destination[] {
  return weights.map((w, i) => dest(`s${i}`, w, { host: `10.1.0.${i + 1}` }));
}

function mapping(s: MaglevHashScheduler, clients: number): (string | undefined)[] {
  return Array.from({ length: clients }, (_, i) => s.pick(ctx({ clientHost: clientAddress(i) }))?.key);
}

describe('mh', () => {
  it('is stable: same servers → same mapping, in any instance', () => {
    const a = new MaglevHashScheduler();
    const b = new MaglevHashScheduler();
    a.update(servers([1, 1, 1, 1]));
    b.update(servers([1, 1, 1, 1]));
    assert.deepEqual(
      a.lookupTable.map((d) => d?.key),
      b.lookupTable.map((d) => d?.key),
    );
    assert.deepEqual(mapping(a, 2000), mapping(b, 2000));
    a.update(servers([1, 1, 1, 1])); // rebuilding changes nothing
    assert.deepEqual(mapping(a, 2000), mapping(b, 2000));
  });

  it('fills every slot, and shares follow weights within 1% of the table', () => {
    for (const weights of [
      [1, 1, 1],
      [1, 2, 3],
      [7, 11, 13, 17],
      [100, 250, 1000],
      [65535, 65535, 32768],
    ]) {
      const s = new MaglevHashScheduler();
      s.update(servers(weights));
      const got = shares(s.lookupTable);
      assert.equal(got['-'], undefined, 'no empty slot');
      const total = weights.reduce((x, y) => x + y, 0);
      weights.forEach((w, i) => {
        const expected = (4093 * w) / total;
        assert.ok(
          Math.abs(got[`s${i}`]! - expected) < 41,
          `${weights}: s${i} has ${got[`s${i}`]}, expected ${expected}`,
        );
      });
    }
  });

  it('as the kernel: weight/gcd is capped to 6 bits, so a tiny weight still gets a turn per round', () => {
    const s = new MaglevHashScheduler();
    s.update(servers([1, 65535]));
    const got = shares(s.lookupTable);
    // 65535 → 65535 >> 10 = 63 turns per round vs 1
    assert.ok(got.s0! > 50 && got.s0! < 80, JSON.stringify(got));
  });

  it('when one of N servers leaves, only its keys and a small extra share move', () => {
    const n = 10;
    const clients = 20000;
    for (let leaver = 0; leaver < n; leaver++) {
      const all = servers(Array<number>(n).fill(1));
      const s = new MaglevHashScheduler();
      s.update(all);
      const before = mapping(s, clients);
      s.update(all.filter((_, i) => i !== leaver));
      const after = mapping(s, clients);
      let moved = 0;
      let movedOthers = 0;
      for (let i = 0; i < clients; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        if (before[i] !== `s${leaver}`) movedOthers++;
      }
      assert.ok(moved / clients < 1.5 / n, `leaver s${leaver}: ${moved} of ${clients} moved`);
      assert.ok(movedOthers / clients < 0.5 / n, `leaver s${leaver}: ${movedOthers} keys of others moved`);
      assert.ok(!after.includes(`s${leaver}`));
    }
  });

  it('when a server joins, it takes about 1/(N+1) of the keys, mostly from the others evenly', () => {
    const all = servers(Array<number>(11).fill(1));
    const s = new MaglevHashScheduler();
    s.update(all.slice(0, 10));
    const before = mapping(s, 20000);
    s.update(all);
    const after = mapping(s, 20000);
    const moved = before.filter((k, i) => k !== after[i]).length;
    const toNew = after.filter((k) => k === 's10').length;
    assert.ok(Math.abs(toNew / 20000 - 1 / 11) < 0.02, `${toNew}`);
    assert.ok(moved - toNew < 20000 * 0.05, `${moved - toNew} keys moved between old servers`);
  });

  it('as the kernel: quiescing a server (weight 0) keeps the table; its keys fail, others stay', () => {
    const list = servers([1, 1, 1]);
    const s = new MaglevHashScheduler();
    s.update(list);
    const table = s.lookupTable.map((d) => d?.key);
    const before = mapping(s, 5000);
    list[1]!.weight = 0;
    s.update(list); // last non-zero weight is kept
    assert.deepEqual(
      s.lookupTable.map((d) => d?.key),
      table,
    );
    const after = mapping(s, 5000);
    for (let i = 0; i < 5000; i++) assert.equal(after[i], before[i] === 's1' ? undefined : before[i]);
  });

  it('with mh-fallback, keys of an unavailable server move to others; the rest stay', () => {
    const list = servers([1, 1, 1]);
    const s = new MaglevHashScheduler({ fallback: true });
    s.update(list);
    const before = mapping(s, 5000);
    list[1]!.overloaded = true;
    const after = mapping(s, 5000);
    let reassigned = 0;
    for (let i = 0; i < 5000; i++) {
      if (before[i] === 's1') {
        assert.ok(after[i] === 's0' || after[i] === 's2');
        reassigned++;
      } else {
        assert.equal(after[i], before[i]);
      }
    }
    assert.ok(reassigned > 1000);
    assert.deepEqual(mapping(s, 5000), after, 'deterministic');
    list[0]!.weight = 0;
    list[2]!.weight = 0;
    assert.equal(s.pick(ctx()), undefined);
  });

  it('as the kernel: a server added with weight 0 gets no slot until it has a weight', () => {
    const s = new MaglevHashScheduler();
    const list = servers([1, 1, 0]);
    s.update(list);
    assert.equal(shares(s.lookupTable).s2, undefined);
    list[2]!.weight = 1;
    s.update(list);
    assert.ok(shares(s.lookupTable).s2! > 1000);
  });

  it('all weights 0, empty list → no destination', () => {
    const s = new MaglevHashScheduler({ fallback: true });
    s.update([]);
    assert.equal(s.pick(ctx()), undefined);
    s.update(servers([0, 0]));
    assert.equal(s.pick(ctx()), undefined);
    assert.deepEqual(shares(s.lookupTable), { '-': 4093 });
  });

  it('mh-port spreads one client address by source port; without it the port is ignored', () => {
    const withPort = new MaglevHashScheduler({ hashPort: true });
    const withoutPort = new MaglevHashScheduler();
    withPort.update(servers([1, 1, 1, 1]));
    withoutPort.update(servers([1, 1, 1, 1]));
    const seen = new Set<string>();
    const fixed = new Set<string>();
    for (let port = 2000; port < 2100; port++) {
      seen.add(withPort.pick(ctx({ clientPort: port }))!.key);
      fixed.add(withoutPort.pick(ctx({ clientPort: port }))!.key);
    }
    assert.equal(seen.size, 4);
    assert.equal(fixed.size, 1);
  });

  it('maps IPv6 and IPv4-mapped clients', () => {
    const s = new MaglevHashScheduler();
    s.update(servers([1, 1, 1]));
    assert.equal(s.pick(ctx({ clientHost: '::ffff:192.0.2.10' })), s.pick(ctx({ clientHost: '192.0.2.10' })));
    const v6 = new Set(
      Array.from({ length: 300 }, (_, i) => s.pick(ctx({ clientHost: `2001:db8::${i.toString(16)}` }))!.key),
    );
    assert.equal(v6.size, 3);
  });

  it('accepts other prime table sizes and rejects the rest', () => {
    const small = new MaglevHashScheduler({}, 251);
    small.update(servers([1, 2]));
    assert.equal(small.lookupTable.length, 251);
    assert.deepEqual(shares(small.lookupTable), { s0: 84, s1: 167 });
    for (const bad of [4096, 1, 0, -7, 4093.5, 262147]) {
      assert.throws(
        () => new MaglevHashScheduler({}, bad),
        (e) => isHastackError(e, 'HASTACK_BALANCE_INVALID_OPTION'),
      );
    }
  });

  it('rejects more servers than table slots', () => {
    const s = new MaglevHashScheduler({}, 7);
    assert.throws(
      () => s.update(servers([1, 1, 1, 1, 1, 1, 1, 1])),
      (e) => isHastackError(e, 'HASTACK_BALANCE_MH_TOO_MANY_DESTINATIONS'),
    );
  });
});
