import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on: the OS hands out a free one and the probe closes it again. For a
 * process that must be told its port up front, or as an address that refuses connections.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    // A probe must never be what keeps a test process alive.
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
