// The browser entry of the sandbox page (bundled by esbuild; see build/page.ts).
import { startSandboxPage } from './app/page';

const root = document.getElementById('app');
if (root) startSandboxPage(root);
