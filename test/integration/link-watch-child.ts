import { LinkWatch } from '../../src/vrrp/link-watch.ts';

/*
 * Run inside a test's network namespace (link-watch.test.ts): watches one interface with
 * a backstop poll of an hour, so every change it prints came from a kernel notification.
 */
const ifname = process.argv[2]!;
const watch = new LinkWatch({ backstopMs: 3_600_000 });
watch.subscribe((name, up) => process.stdout.write(`${name} ${up ? 'up' : 'down'}\n`));
const up = watch.watch(ifname);
process.stdout.write(`ready ${up ? 'up' : 'down'} ${watch.eventDriven ? 'events' : 'poll'}\n`);
// The watch's own handles do not keep a process alive.
setInterval(() => {}, 60_000);
process.on('SIGTERM', () => {
  watch.close();
  process.exit(0);
});
