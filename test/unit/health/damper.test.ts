import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHastackError } from '../../../src/core/errors.ts';
import { Damper } from '../../../src/health/damper.ts';

/**
 * Reference model, stated from the history rather than from counters: the state
 * flips down when the last `fall` results are failures all seen while up, and up
 * when the last `rise` results are successes all seen while down.
 */
function expectedStates(rise: number, fall: number, startDown: boolean, results: boolean[]): boolean[] {
  const states: boolean[] = [];
  let up = !startDown;
  let runStart = 0; // index where the current state began (results after a flip count afresh)
  for (let i = 0; i < results.length; i++) {
    const needed = up ? fall : rise;
    const wanted = !up; // the result that pushes toward a flip
    const from = Math.max(runStart, i - needed + 1);
    const window = results.slice(from, i + 1);
    if (window.length === needed && window.every((r) => r === wanted)) {
      up = !up;
      runStart = i + 1;
    }
    states.push(up);
  }
  return states;
}

function allSequences(length: number): boolean[][] {
  const out: boolean[][] = [];
  for (let bits = 0; bits < 1 << length; bits++) {
    out.push(Array.from({ length }, (_, i) => ((bits >> i) & 1) === 1));
  }
  return out;
}

test('damper: every sequence up to 9 results matches the model (rise/fall 1..4, both starts)', () => {
  let checked = 0;
  for (let rise = 1; rise <= 4; rise++) {
    for (let fall = 1; fall <= 4; fall++) {
      for (const startDown of [false, true]) {
        for (const results of allSequences(9)) {
          const damper = new Damper({ rise, fall, startDown });
          const expected = expectedStates(rise, fall, startDown, results);
          let previous = damper.up;
          results.forEach((ok, i) => {
            const flipped = damper.record(ok);
            assert.equal(damper.up, expected[i], `rise=${rise} fall=${fall} alpha=${startDown} ${results}`);
            assert.equal(flipped, damper.up !== previous);
            previous = damper.up;
          });
          checked++;
        }
      }
    }
  }
  assert.equal(checked, 4 * 4 * 2 * 512);
});

test('damper: starts up without alpha, down with alpha', () => {
  assert.equal(new Damper({ rise: 2, fall: 3, startDown: false }).up, true);
  assert.equal(new Damper({ rise: 2, fall: 3, startDown: true }).up, false);
});

test('damper: alpha needs `rise` successes before the first up', () => {
  const damper = new Damper({ rise: 3, fall: 1, startDown: true });
  assert.equal(damper.record(true), false);
  assert.equal(damper.record(true), false);
  assert.equal(damper.up, false);
  assert.equal(damper.record(true), true);
  assert.equal(damper.up, true);
});

test('damper: a success in the middle resets the failure streak', () => {
  const damper = new Damper({ rise: 1, fall: 3, startDown: false });
  damper.record(false);
  damper.record(false);
  assert.equal(damper.consecutiveFail, 2);
  damper.record(true);
  assert.equal(damper.consecutiveFail, 0);
  assert.equal(damper.consecutiveOk, 1);
  damper.record(false);
  damper.record(false);
  assert.equal(damper.up, true);
  assert.equal(damper.record(false), true);
  assert.equal(damper.up, false);
});

test('damper: counters keep growing past the threshold', () => {
  const damper = new Damper({ rise: 1, fall: 2, startDown: false });
  for (let i = 0; i < 5; i++) damper.record(false);
  assert.equal(damper.consecutiveFail, 5);
  assert.equal(damper.consecutiveOk, 0);
  assert.equal(damper.up, false);
  // Extra failures while down never report another transition.
  assert.equal(damper.record(false), false);
});

test('damper: rejects rise/fall that are not whole numbers >= 1', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => new Damper({ rise: bad, fall: 1, startDown: false }),
      (err) => isHastackError(err, 'HASTACK_HEALTH_INVALID_DAMPING'),
    );
    assert.throws(
      () => new Damper({ rise: 1, fall: bad, startDown: false }),
      (err) => isHastackError(err, 'HASTACK_HEALTH_INVALID_DAMPING'),
    );
  }
});
