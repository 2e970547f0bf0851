import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { readBody } from '../../emulators/http';
import { channelNamed, PEOPLE, personNamed, type Person } from './people';
import type { SandboxCore } from './sandbox';
import { RefusedError } from './slack-world';

/**
 * The control API (README "Sandbox", SANDBOX-API.md) and the page. JSON in, JSON out; errors are
 * `4xx {"error": "<one sentence>"}`. Bound to 127.0.0.1 only.
 */

export interface ControlServer {
  readonly url: string;
  served(): string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/** The page: every file of webDir as it is, and each top-level `<name>.ts` bundled for the browser as `/<name>.js`. */
async function loadPage(webDir: string): Promise<Map<string, { type: string; body: Buffer }>> {
  const files = new Map<string, { type: string; body: Buffer }>();
  if (!existsSync(webDir)) return files;
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
      else if (!name.endsWith('.ts')) files.set(`/${prefix}${name}`, { type: TYPES[extname(name)] ?? 'application/octet-stream', body: readFileSync(full) });
    }
  };
  walk(webDir, '');
  const entries = readdirSync(webDir).filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts') && !n.endsWith('.test.ts'));
  if (entries.length > 0) {
    const esbuild = await import('esbuild');
    for (const entry of entries) {
      const out = await esbuild.build({
        entryPoints: [join(webDir, entry)],
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        sourcemap: 'inline',
        logLevel: 'silent',
      });
      const js = out.outputFiles[0];
      if (js) files.set(`/${entry.replace(/\.ts$/, '.js')}`, { type: TYPES['.js'] as string, body: Buffer.from(js.contents) });
    }
  }
  return files;
}

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>ivs-bot sandbox</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>ivs-bot sandbox</h1><p>The page (sandbox/web/) is not there yet; the control API under <code>/api/</code> works.
See README "Sandbox".</p></body>`;

export async function startControlServer(
  core: SandboxCore,
  opts: { port: number; recordServed: boolean; webDir?: string | undefined },
): Promise<ControlServer> {
  const webDir = resolve(opts.webDir ?? join(__dirname, '..', 'web'));
  const page = await loadPage(webDir);
  const served: string[] = [];
  const sse = new Set<ServerResponse>();

  const record = (res: ServerResponse) => {
    if (!opts.recordServed) return;
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string') served.push(chunk);
      else if (chunk instanceof Uint8Array) served.push(Buffer.from(chunk).toString('utf8'));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((...args: unknown[]) => {
      if (args.length > 0 && typeof args[0] !== 'function') keep(args[0]);
      return end(...args);
    }) as ServerResponse['end'];
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const person = (name: unknown): Person => {
    const p = personNamed(name);
    if (!p) throw new RefusedError(400, `Unknown person "${String(name ?? '')}": act as one of ${PEOPLE.map((x) => x.name).join(', ')}.`);
    return p;
  };
  const channel = (name: unknown) => {
    const c = channelNamed(name);
    if (!c) throw new RefusedError(404, `Unknown channel "${String(name ?? '')}": the channels are ops and random.`);
    return c;
  };
  const parse = (raw: string): Record<string, unknown> => {
    if (raw.trim() === '') return {};
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new RefusedError(400, 'The body is not JSON.');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RefusedError(400, 'The body must be a JSON object.');
    return v as Record<string, unknown>;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    // The routes with parameters, matched once each.
    const messagesRoute = method === 'GET' ? /^\/api\/channels\/([^/]+)\/messages$/.exec(path) : null;
    const threadRoute = method === 'GET' ? /^\/api\/channels\/([^/]+)\/threads\/([^/]+)$/.exec(path) : null;
    const replicaRoute = /^\/api\/replicas\/([^/]+)\/(kill|restart)$/.exec(path);

    if (method === 'GET' && path === '/api/state') return json(res, 200, await core.state());
    if (method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify({ seq: core.seq() })}\n\n`);
      sse.add(res);
      const off = core.onSeq((seq) => res.write(`data: ${JSON.stringify({ seq })}\n\n`));
      req.on('close', () => {
        off();
        sse.delete(res);
      });
      return;
    }
    if (messagesRoute) {
      const m = messagesRoute;
      return json(res, 200, { messages: core.world.messages(channel(m[1]), person(q('as'))) });
    }
    if (threadRoute) {
      const m = threadRoute;
      const c = channel(m[1]);
      const thread = core.world.thread(c, decodeURIComponent(m[2] ?? ''), person(q('as')));
      if (!thread) throw new RefusedError(404, `No message ${m[2]} in #${c.name}.`);
      return json(res, 200, thread);
    }
    if (method === 'GET' && path === '/api/modal') return json(res, 200, { view: core.world.openView(person(q('as'))) });
    if (method === 'GET' && path === '/api/panels/intercom') return json(res, 200, core.intercomPanel());
    if (method === 'GET' && path === '/api/panels/vault') return json(res, 200, core.vaultPanel());
    if (method === 'GET' && path === '/api/panels/audit') return json(res, 200, await core.auditPanel());

    if (method === 'POST' && path.startsWith('/api/')) {
      const body = parse(await readBody(req));
      if (path === '/api/command') {
        if (typeof body['text'] !== 'string' || body['text'].trim() === '') throw new RefusedError(400, '"text" must be the command, like "/ivs list".');
        return json(res, 200, await core.world.command(person(body['as']), channel(body['channel']), body['text'], core.deliver));
      }
      if (path === '/api/click') {
        if (typeof body['ts'] !== 'string' || typeof body['button'] !== 'string') throw new RefusedError(400, '"ts" and "button" are required.');
        return json(
          res,
          200,
          await core.world.click(person(body['as']), channel(body['channel']), body['ts'], body['button'], body['confirm'] === true, core.deliver),
        );
      }
      if (path === '/api/modal/submit') return json(res, 200, await core.world.submit(person(body['as']), body['values'] ?? {}, core.deliver));
      if (path === '/api/modal/close') return json(res, 200, core.world.close(person(body['as'])));
      if (path === '/api/faults') {
        if (typeof body['name'] !== 'string' || typeof body['on'] !== 'boolean')
          throw new RefusedError(400, '"name" (a fault) and "on" (true or false) are required.');
        return json(res, 200, { faults: await core.setFault(body['name'], body['on']) });
      }
      if (path === '/api/time/skip') {
        if (typeof body['by'] !== 'string') throw new RefusedError(400, '"by" must be a duration like 90s, 5m, 1h or 2d.');
        return json(res, 200, { clock: core.skip(body['by']) });
      }
      if (path === '/api/reset') {
        await core.reset();
        return json(res, 200, await core.state());
      }
      if (replicaRoute) {
        const m = replicaRoute;
        const r = core.replica(m[1] ?? '');
        if (!r) throw new RefusedError(404, `Unknown replica "${m[1]}": the replicas are ${core.replicas.map((x) => x.name).join(' and ')}.`);
        if (m[2] === 'kill') await r.kill();
        else await r.start();
        return json(res, 200, { replicas: (await core.state())['replicas'] });
      }
    }
    if (path.startsWith('/api/')) throw new RefusedError(404, `No such endpoint: ${method} ${path}.`);

    if (method === 'GET') {
      const file = page.get(path === '/' ? '/index.html' : path);
      if (file) {
        res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
        res.end(file.body);
        return;
      }
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': TYPES['.html'] as string });
        res.end(PLACEHOLDER);
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found');
  };

  let boundPort = 0;
  /**
   * Only this machine's own browser and scripts: the Host must be this server's loopback address (no
   * DNS rebinding), and a POST must say it is JSON, which a page on another site cannot send
   * without a CORS preflight this server never grants.
   */
  const guard = (req: IncomingMessage): void => {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${boundPort}` && host !== `localhost:${boundPort}`) {
      throw new RefusedError(403, `The sandbox answers only at http://127.0.0.1:${boundPort} (Host was "${host.slice(0, 100)}").`);
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (req.method === 'POST' && type !== 'application/json') {
      throw new RefusedError(415, 'Send the body as JSON, with Content-Type: application/json.');
    }
  };

  const server: Server = createServer((req, res) => {
    record(res);
    const url = new URL(req.url ?? '/', 'http://sandbox');
    Promise.resolve()
      .then(() => guard(req))
      .then(() => route(req, res, url))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof RefusedError) json(res, err.status, { error: err.message, ...err.extra });
        else json(res, 500, { error: `The sandbox failed: ${err instanceof Error ? err.message : 'unknown error'}` });
      });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        new Error(
          err.code === 'EADDRINUSE' ? `Port ${opts.port} is in use: pick another with --port N.` : `Cannot listen on port ${opts.port}: ${err.message}`,
        ),
      ),
    );
    server.listen(opts.port, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  boundPort = port;
  return {
    url: `http://127.0.0.1:${port}`,
    served: () => served.join('\n'),
    close: () =>
      new Promise<void>((done) => {
        for (const res of sse) res.end();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
