import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LinkEventsOpener, LinkWatch } from '../../../src/vrrp/link-watch.ts';

/* LinkWatch: kernel link notifications make it re-read the flags at once; without them it polls. */

function fakeLinks(initial: Record<string, boolean>) {
  const state = new Map(Object.entries(initial));
  return { state, probe: (ifname: string) => state.get(ifname) ?? false };
}

describe('LinkWatch', () => {
  it('re-reads the flags at each link notification and reports only changes', () => {
    const links = fakeLinks({ eth0: true, eth1: true });
    let notify: (() => void) | undefined;
    let closed = 0;
    const openEvents: LinkEventsOpener = (onChange) => {
      notify = onChange;
      return { close: () => void closed++ };
    };
    // A backstop poll far beyond the test: every report below comes from a notification.
    const watch = new LinkWatch({ openEvents, probe: links.probe, backstopMs: 3_600_000 });
    const seen: string[] = [];
    watch.subscribe((ifname, up) => seen.push(`${ifname} ${up ? 'up' : 'down'}`));
    assert.equal(watch.watch('eth0'), true);
    assert.equal(watch.watch('eth1'), true);
    assert.equal(watch.eventDriven, true);
    links.state.set('eth0', false);
    notify!();
    assert.deepEqual(seen, ['eth0 down'], 'reported synchronously, at the notification');
    notify!();
    assert.deepEqual(seen, ['eth0 down'], 'no change, no report');
    links.state.set('eth0', true);
    links.state.set('eth1', false);
    notify!();
    assert.deepEqual(seen, ['eth0 down', 'eth0 up', 'eth1 down']);
    assert.equal(watch.isUp('eth1'), false);
    watch.close();
    assert.equal(closed, 1);
  });

  it('polls every pollMs when there are no notifications (no netlink)', async () => {
    const links = fakeLinks({ eth0: true });
    const watch = new LinkWatch({ openEvents: () => undefined, probe: links.probe, pollMs: 5 });
    const seen: boolean[] = [];
    watch.subscribe((_ifname, up) => seen.push(up));
    watch.watch('eth0');
    assert.equal(watch.eventDriven, false);
    links.state.set('eth0', false);
    for (let i = 0; i < 200 && seen.length === 0; i++) await sleep(5);
    assert.deepEqual(seen, [false]);
    watch.close();
  });

  it('a probe that throws reads as down, and an unknown interface is down', () => {
    const watch = new LinkWatch({
      openEvents: () => undefined,
      probe: (ifname) => {
        if (ifname === 'bad0') throw new Error('ioctl failed');
        return false;
      },
    });
    assert.equal(watch.watch('bad0'), false);
    assert.equal(watch.isUp('missing0'), false);
    watch.close();
  });
});
