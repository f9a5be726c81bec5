import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrkOutput, totalSocketErrors } from '../../../bench/lib/wrk-output.ts';

const KEEP_ALIVE = `Running 2s test @ http://127.0.0.1:46793/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   419.44us  282.93us   6.28ms   96.43%
    Req/Sec   122.06k    16.57k  142.82k    60.00%
  Latency Distribution
     50%  416.00us
     75%  562.00us
     90%  640.00us
     99%    0.93ms
  242302 requests in 2.00s, 34.66MB read
Requests/sec: 120996.91
Transfer/sec:     17.31MB
`;

const WITH_ERRORS = `Running 10s test @ http://127.0.0.1:8080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    16.51ms    5.75ms    1.20s    77.36%
    Req/Sec     3.82k   629.99     4.76k    70.00%
  Latency Distribution
     50%   16.10ms
     75%   18.79ms
     90%   23.15ms
     99%    1.02s
  7606 requests in 10.00s, 1.05MB read
  Socket errors: connect 3, read 12, write 0, timeout 7
  Non-2xx or 3xx responses: 5
Requests/sec:    760.60
Transfer/sec:    538.09KB
`;

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`);

test('parses rate, totals and latency of a clean run, in ms', () => {
  const r = parseWrkOutput(KEEP_ALIVE);
  assert.equal(r.requestsPerSec, 120996.91);
  assert.equal(r.requests, 242302);
  assert.equal(r.elapsedSec, 2);
  close(r.bytesRead, 34.66 * 1024 * 1024);
  close(r.transferPerSec, 17.31 * 1024 * 1024);
  close(r.latency.avgMs, 0.41944);
  close(r.latency.stdevMs, 0.28293);
  close(r.latency.maxMs, 6.28);
  close(r.latency.p50Ms, 0.416);
  close(r.latency.percentilesMs[90]!, 0.64);
  close(r.latency.p99Ms, 0.93);
  assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(r.non2xx3xx, 0);
});

test('reads socket errors, non-2xx counts and second-scale latencies', () => {
  const r = parseWrkOutput(WITH_ERRORS);
  assert.deepEqual(r.socketErrors, { connect: 3, read: 12, write: 0, timeout: 7 });
  assert.equal(totalSocketErrors(r.socketErrors), 22);
  assert.equal(r.non2xx3xx, 5);
  close(r.latency.maxMs, 1200);
  close(r.latency.p99Ms, 1020);
  close(r.transferPerSec, 538.09 * 1024);
});

test('fails with a coded error when --latency output or the rate is missing', () => {
  const withoutDistribution = KEEP_ALIVE.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}242302)/, '');
  assert.throws(() => parseWrkOutput(withoutDistribution), {
    code: 'HASTACK_BENCH_WRK_OUTPUT',
    message: /--latency/,
  });
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), {
    code: 'HASTACK_BENCH_WRK_OUTPUT',
  });
});
