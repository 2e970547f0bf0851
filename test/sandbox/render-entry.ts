// Bundled for the browser by the rendering test: exposes the renderer to page.evaluate.
import * as blocks from '../../sandbox/web/render/blocks';
import * as mrkdwn from '../../sandbox/web/render/mrkdwn';

(globalThis as unknown as { ivs: unknown }).ivs = { ...blocks, ...mrkdwn };

export type Ivs = typeof blocks & typeof mrkdwn;
