import { parseArgs } from 'node:util';
import { createDemoBackend, listenDemoBackend } from './demo-backend.ts';

// A demo backend as its own process, so `kill -STOP <pid>` makes it fail like a real hung server.
const { values } = parseArgs({ options: { name: { type: 'string' }, port: { type: 'string' } } });
const server = createDemoBackend(values.name ?? 'web');
const port = await listenDemoBackend(server, Number(values.port ?? 0));
process.send?.({ type: 'ready', port });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
