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
  /**
   * Connections made from now on reach Redis only once the returned function is called (what a
   * client sends meanwhile waits): whatever the client does after a lost answer, it does after
   * whatever the test does first.
   */
  holdNewConnections(): () => void;
  close(): Promise<void>;
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let trap: { markers: readonly string[]; sprung: () => void } | undefined;
  let held: (() => void)[] | undefined;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    // Not read (so what it sends is buffered) until released.
    if (held) held.push(() => forward(client));
    else forward(client);
  });
  const forward = (client: Socket) => {
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
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    loseAnswerTo: (...markers) =>
      new Promise<void>((resolve) => {
        trap = { markers, sprung: resolve };
      }),
    holdNewConnections: () => {
      const waiting: (() => void)[] = [];
      held = waiting;
      return () => {
        if (held === waiting) held = undefined;
        for (const go of waiting) go();
      };
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
