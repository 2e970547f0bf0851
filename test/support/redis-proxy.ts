import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a redis-server that can lose one answer the way a network blip does:
 * the command reaches Redis and runs, then the connection drops before its reply gets back.
 */
export interface RedisProxy {
  readonly url: string;
  /**
   * The next command whose bytes contain every one of `markers` is forwarded, and its connection is
   * cut when Redis answers it. Resolves once that happened.
   */
  loseAnswerTo(...markers: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let trap: { markers: readonly string[]; sprung: () => void } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let cutOnNextAnswer: (() => void) | undefined;
    client.on('data', (chunk: Buffer) => {
      if (trap?.markers.every((m) => chunk.includes(m))) {
        cutOnNextAnswer = trap.sprung;
        trap = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnNextAnswer) {
        const sprung = cutOnNextAnswer;
        cutOnNextAnswer = undefined;
        client.destroy();
        upstream.destroy();
        sprung();
        return;
      }
      client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    loseAnswerTo: (...markers) =>
      new Promise<void>((resolve) => {
        trap = { markers, sprung: resolve };
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
