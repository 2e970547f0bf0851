/**
 * The sandbox page as the sandbox server serves it, built in memory (nothing written to disk):
 * `index.html` at `/`, `style.css` at `/style.css`, and `main.ts` bundled for the browser by esbuild
 * at `/main.js`. The page loads nothing from elsewhere (no fonts, images or CDNs: it works offline)
 * and runs no inline script; its Content-Security-Policy is in the HTML (and in `csp`, for a header).
 *
 * Layout rule the server's loader relies on: the only top-level `.ts` in sandbox/web/ is the browser
 * entry `main.ts`; browser modules live in render/ and app/, Node code (this file) in build/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

// The repository is CommonJS (tsx and vitest run it so), so __dirname is this file's folder.
const WEB = join(__dirname, '..');

export interface SandboxPage {
  readonly html: string;
  readonly js: string;
  readonly css: string;
  /** The Content-Security-Policy the page is written for (also in its <meta>). */
  readonly csp: string;
}

/** Bundles one browser entry (TypeScript) into a single self-contained script. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

export async function readSandboxCss(): Promise<string> {
  return readFile(join(WEB, 'style.css'), 'utf8');
}

export async function buildSandboxPage(): Promise<SandboxPage> {
  const [js, css, html] = await Promise.all([bundleForBrowser(join(WEB, 'main.ts')), readSandboxCss(), readFile(join(WEB, 'index.html'), 'utf8')]);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? "default-src 'self'";
  return { html, js, css, csp };
}
