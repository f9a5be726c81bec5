import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHastackError } from '../../../src/core/errors.ts';
import { PersistenceTable } from '../../../src/l4/persistence.ts';

const always = () => true;

function table(over: Partial<{ timeoutMs: number; granularity: number; maxTemplates: number }> = {}) {
  return new PersistenceTable<string>({ timeoutMs: 1000, granularity: 32, maxTemplates: 100, ...over });
}

describe('PersistenceTable', () => {
  it('keeps a client on the server of its template', () => {
    const p = table();
    const t = p.create('192.0.2.10', 'A');
    p.attach(t);
    assert.equal(p.lookup('192.0.2.10', 5, always)?.target, 'A');
    assert.equal(p.lookup('192.0.2.11', 5, always), undefined, '/32: another address has no template');
  });

  it('masks the client address with the granularity', () => {
    const p = table({ granularity: 24 });
    p.create('192.0.2.10', 'A');
    assert.equal(p.lookup('192.0.2.200', 0, always)?.target, 'A');
    assert.equal(p.lookup('192.0.3.1', 0, always), undefined);
    assert.equal(p.keyFor('192.0.2.99'), p.keyFor('::ffff:192.0.2.1'), 'IPv4-mapped IPv6 is masked as IPv4');
    const all = table({ granularity: 0 });
    all.create('10.1.2.3', 'B');
    assert.equal(all.lookup('203.0.113.9', 0, always)?.target, 'B', '/0: one template for everybody');
    const v6 = table({ granularity: 24 });
    v6.create('2001:db8::1', 'C');
    assert.equal(v6.lookup('2001:DB8::1', 0, always)?.target, 'C');
    assert.equal(v6.lookup('2001:db8::2', 0, always), undefined, 'IPv6 clients use their full address');
  });

  it('expires timeout ms after the last connection ended, never while in use', () => {
    const p = table({ timeoutMs: 1000 });
    const t = p.create('192.0.2.10', 'A');
    p.attach(t);
    p.attach(t);
    assert.equal(p.lookup('192.0.2.10', 1_000_000, always)?.target, 'A', 'in use: no expiry');
    p.detach(t, 2000);
    assert.equal(p.lookup('192.0.2.10', 50_000, always)?.target, 'A', 'one connection still open');
    p.detach(t, 60_000);
    assert.equal(p.lookup('192.0.2.10', 60_999, always)?.target, 'A');
    assert.equal(p.lookup('192.0.2.10', 61_000, always), undefined);
    assert.equal(p.size, 0);
  });

  it('a new connection restarts the template life', () => {
    const p = table({ timeoutMs: 1000 });
    const t = p.create('192.0.2.10', 'A');
    p.attach(t);
    p.detach(t, 0);
    const again = p.lookup('192.0.2.10', 900, always)!;
    p.attach(again);
    p.detach(again, 1500);
    assert.equal(p.lookup('192.0.2.10', 2400, always)?.target, 'A');
  });

  it('drops a template whose server is no longer available', () => {
    const p = table();
    p.create('192.0.2.10', 'A');
    assert.equal(
      p.lookup('192.0.2.10', 0, (s) => s !== 'A'),
      undefined,
    );
    assert.equal(p.size, 0);
    p.create('192.0.2.11', 'B');
    p.create('192.0.2.12', 'B');
    assert.equal(p.removeTarget('B'), 2);
  });

  it('is bounded: the least recently used template is evicted', () => {
    const p = table({ maxTemplates: 3 });
    const t1 = p.create('10.0.0.1', 'A');
    p.create('10.0.0.2', 'A');
    p.create('10.0.0.3', 'A');
    p.attach(t1); // t1 becomes most recently used
    p.create('10.0.0.4', 'A');
    assert.equal(p.size, 3);
    assert.equal(p.lookup('10.0.0.2', 0, always), undefined, 'oldest unused one went');
    assert.ok(p.lookup('10.0.0.1', 0, always));
    for (let i = 0; i < 10_000; i++) p.create(`10.1.${i >> 8}.${i & 255}`, 'B');
    assert.equal(p.size, 3);
  });

  it('sweep removes expired templates', () => {
    const p = table({ timeoutMs: 100 });
    for (let i = 0; i < 5; i++) {
      const t = p.create(`10.0.0.${i}`, 'A');
      p.attach(t);
      p.detach(t, i * 100);
    }
    assert.equal(p.sweep(250), 2);
    assert.equal(p.size, 3);
  });

  it('rejects bad options', () => {
    assert.throws(
      () => table({ timeoutMs: 0 }),
      (e) => isHastackError(e, 'HASTACK_L4_INVALID_PERSISTENCE'),
    );
    assert.throws(
      () => table({ granularity: 33 }),
      (e) => isHastackError(e, 'HASTACK_L4_INVALID_PERSISTENCE'),
    );
    assert.throws(
      () => table({ maxTemplates: 0 }),
      (e) => isHastackError(e, 'HASTACK_L4_INVALID_PERSISTENCE'),
    );
  });
});
