import { startSandbox } from './sandbox';

/** `npm run sandbox [-- --port N]`: everything on loopback, one URL line, Ctrl-C stops it all. */

function portFrom(argv: readonly string[]): number {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i === -1) return 3030;
  const raw = argv[i]?.includes('=') ? argv[i]?.split('=')[1] : argv[i + 1];
  const n = /^\d{1,5}$/.test(raw ?? '') ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`sandbox: --port takes a port number from 0 to 65535, not "${raw ?? ''}"\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const port = portFrom(process.argv.slice(2));
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ port });
  } catch (err) {
    process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sandbox.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`ivs-bot sandbox: ${sandbox.url}\n`);
}

void main();
