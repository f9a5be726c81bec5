/**
 * The client side of bench/failover.ts, run inside the lab's client namespace:
 * starts an HTTP GET to http://VIP/ every 10 ms (each with its own connection and
 * a 100 ms limit) for DURATION ms and prints one JSON line with the wall-clock
 * times of the answers and who answered.
 *
 *   node bench/failover-probe.ts VIP DURATION_MS
 */
import { request } from 'node:http';

const [vip, durationText] = process.argv.slice(2);
const duration = Number(durationText ?? '5000');
const EVERY_MS = 10;
const LIMIT_MS = 100;
const answers: { at: number; by: string }[] = [];
let failures = 0;
let inFlight = 0;

function probe(): void {
  if (inFlight >= 30) return;
  inFlight++;
  const req = request(
    { host: vip, port: 80, path: '/', agent: false, headers: { connection: 'close' } },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        answers.push({ at: Date.now(), by: body.trim() });
        done();
      });
    },
  );
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    inFlight--;
    clearTimeout(timer);
  };
  const timer = setTimeout(() => {
    failures++;
    req.destroy();
    done();
  }, LIMIT_MS);
  req.on('error', () => {
    if (!finished) failures++;
    done();
  });
  req.end();
}

const started = Date.now();
const tick = setInterval(probe, EVERY_MS);
setTimeout(() => {
  clearInterval(tick);
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ started, answers, failures })}\n`);
    process.exit(0);
  }, LIMIT_MS + 50);
}, duration);
