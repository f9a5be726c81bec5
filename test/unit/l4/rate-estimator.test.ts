import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyStats, type TrafficStats } from '../../../src/l4/connection-stats.ts';
import { RateEstimator } from '../../../src/l4/rate-estimator.ts';

function totals(conns: number, pkts: number, bytes: number): TrafficStats {
  return { conns, inPkts: pkts, outPkts: pkts * 2, inBytes: bytes, outBytes: bytes * 3 };
}

describe('RateEstimator (ip_vs_est.c)', () => {
  it('follows the kernel fixed-point EWMA step by step', () => {
    const e = new RateEstimator(0, emptyStats());
    // 100 connections per 2 s: rate = 100 << 9 = 51200 (50/s × 2^10); avg += (rate − avg) >> 2.
    e.update(totals(100, 1000, 200_000), 2000);
    // avg 12800 → (12800 + 0x1ff) >> 10 = 12
    assert.deepEqual(e.rates(), { cps: 12, inPps: 125, outPps: 250, inBps: 25_000, outBps: 75_000 });
    e.update(totals(200, 2000, 400_000), 4000); // avg 22400 → 22
    assert.equal(e.rates().cps, 22);
    e.update(totals(300, 3000, 600_000), 6000); // avg 29600 → 29
    assert.equal(e.rates().cps, 29);
  });

  it('converges to the true rate under steady load', () => {
    const e = new RateEstimator(0, emptyStats());
    for (let i = 1; i <= 60; i++) e.update(totals(100 * i, 1000 * i, 200_000 * i), 2000 * i);
    assert.deepEqual(e.rates(), { cps: 50, inPps: 500, outPps: 1000, inBps: 100_000, outBps: 300_000 });
  });

  it('samples only once per 2 s interval', () => {
    const e = new RateEstimator(0, emptyStats());
    e.update(totals(100, 0, 0), 1999);
    assert.equal(e.rates().cps, 0, 'inside the first interval nothing is sampled');
    e.update(totals(100, 0, 0), 2000);
    const once = e.rates().cps;
    e.update(totals(100, 0, 0), 3999);
    assert.equal(e.rates().cps, once);
  });

  it('replays missed intervals with the difference spread over them', () => {
    const late = new RateEstimator(0, emptyStats());
    late.update(totals(300, 0, 0), 6000);
    const punctual = new RateEstimator(0, emptyStats());
    for (let i = 1; i <= 3; i++) punctual.update(totals(100 * i, 0, 0), 2000 * i);
    assert.equal(late.rates().cps, punctual.rates().cps);
  });

  it('decays by 3/4 per interval when traffic stops, and reset starts over', () => {
    const e = new RateEstimator(0, emptyStats());
    for (let i = 1; i <= 60; i++) e.update(totals(100 * i, 0, 0), 2000 * i);
    assert.equal(e.rates().cps, 50);
    e.update(totals(6000, 0, 0), 122_000); // no new connections: avg 51200 × 3/4 = 38400 → 37
    assert.equal(e.rates().cps, 37);
    for (let i = 0; i < 60; i++) e.update(totals(6000, 0, 0), 124_000 + 2000 * i);
    assert.equal(e.rates().cps, 0);
    e.reset(totals(6000, 0, 0), 500_000);
    assert.deepEqual(e.rates(), { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
  });
});
