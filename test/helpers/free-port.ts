/*
 * Free TCP ports for tests. The kernel may offer a just-closed port again on the
 * next bind(0), so two servers of one test could be handed the same port (CI saw
 * it); bench's helper never hands out a port twice in one process.
 */
export { freePort } from '../../bench/lib/ports.ts';
