import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/core/clock.ts';
import { GtidSet } from '../../../src/db/gtid-set.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '8c2d5e00-0000-4000-8000-000000000001';

describe('GtidSet', () => {
  it('parses, merges and prints canonically', () => {
    const s = GtidSet.parse(`${B}:5-7, ${A}:1-3:4:9 ,${A}:10-12`);
    assert.equal(s.toString(), `${A}:1-4:9-12,${B}:5-7`);
    assert.equal(s.count(), 4 + 4 + 3);
    assert.equal(s.last(A), 12);
    assert.equal(s.last(B), 7);
    assert.equal(GtidSet.parse('').toString(), '');
    assert.equal(GtidSet.parse(s.toString()).toString(), s.toString());
  });

  it('rejects malformed sets', () => {
    for (const bad of ['x:1', `${A}`, `${A}:0`, `${A}:5-3`, `${A}:a`, `${A}:1-`, `${A}:-1`]) {
      assert.throws(() => GtidSet.parse(bad), { code: 'HASTACK_DB_GTID_SET' }, bad);
    }
  });

  it('has, subtract, subset and union', () => {
    const s = GtidSet.parse(`${A}:1-10:20-30`);
    assert.ok(s.has(A, 1) && s.has(A, 10) && s.has(A, 25));
    assert.ok(!s.has(A, 11) && !s.has(A, 31) && !s.has(B, 1));
    const t = GtidSet.parse(`${A}:5-22`);
    assert.equal(s.subtract(t).toString(), `${A}:1-4:23-30`);
    assert.equal(t.subtract(s).toString(), `${A}:11-19`);
    assert.ok(GtidSet.parse(`${A}:2-3:21`).isSubsetOf(s));
    assert.ok(!t.isSubsetOf(s));
    assert.equal(s.union(t).toString(), `${A}:1-30`);
    assert.ok(new GtidSet().isSubsetOf(s));
    assert.ok(s.subtract(s).isEmpty());
  });

  it('agrees with a plain set under random operations', () => {
    const random = seededRandom(1);
    for (let round = 0; round < 200; round++) {
      const set = new GtidSet();
      const other = new GtidSet();
      const plain = new Set<string>();
      const plainOther = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const uuid = random() < 0.7 ? A : B;
        const seq = 1 + Math.floor(random() * 60);
        if (random() < 0.5) {
          set.add(uuid, seq);
          plain.add(`${uuid}:${seq}`);
        } else {
          other.add(uuid, seq);
          plainOther.add(`${uuid}:${seq}`);
        }
      }
      const diff = set.subtract(other);
      for (const uuid of [A, B])
        for (let seq = 1; seq <= 61; seq++) {
          const k = `${uuid}:${seq}`;
          assert.equal(set.has(uuid, seq), plain.has(k));
          assert.equal(diff.has(uuid, seq), plain.has(k) && !plainOther.has(k));
        }
      assert.equal(set.count(), plain.size);
      assert.equal(GtidSet.parse(set.toString()).toString(), set.toString());
      assert.equal(set.union(other).count(), new Set([...plain, ...plainOther]).size);
    }
  });
});
