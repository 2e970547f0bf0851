import { SlackError, WebAPIHTTPError, WebAPIPlatformError, WebAPIRequestError, type WebClient } from '@slack/web-api';
import type { ApprovalRequest, CardRef } from '../core/request';
import type { AuditEvent, Clock, Log, Notifier } from '../core/ports';
import { renderRequestCard } from './views/request-card';
import { renderThreadEvent } from './views/thread-event';

/**
 * Cards and thread replies through the Web API. Slack being slow or failing must never undo or
 * repeat a state change that already happened in Redis, so failures are logged, not thrown.
 */
export class SlackNotifier implements Notifier {
  constructor(
    private readonly client: WebClient,
    private readonly clock: Clock,
    private readonly log: Log,
    /** The card of an awaiting rotation says when finishing is allowed: IVS_MIN_OVERLAP of its workspace. */
    private readonly minOverlapMs: (workspace: string) => number | undefined,
  ) {}

  private render(request: ApprovalRequest) {
    const minOverlapMs = this.minOverlapMs(request.operation.workspace);
    return renderRequestCard(request, { now: this.clock.now(), ...(minOverlapMs !== undefined ? { minOverlapMs } : {}) });
  }

  async postCard(request: ApprovalRequest): Promise<CardRef | null> {
    try {
      // Rendered inside the try: a card that cannot render is a card not posted (the request is then
      // cancelled), never a request left without one.
      const card = this.render(request);
      const res = await this.client.chat.postMessage({ channel: request.channel, text: card.text, blocks: card.blocks });
      if (!res.ts || !res.channel) return null;
      return { channel: res.channel, ts: res.ts };
    } catch (err) {
      this.log.error({ err: slackError(err), requestId: request.id }, 'posting the request card failed');
      return null;
    }
  }

  async updateCard(request: ApprovalRequest): Promise<void> {
    if (!request.card) return;
    try {
      const card = this.render(request);
      await this.client.chat.update({ channel: request.card.channel, ts: request.card.ts, text: card.text, blocks: card.blocks });
    } catch (err) {
      this.log.error({ err: slackError(err), requestId: request.id }, 'updating the request card failed');
    }
  }

  async threadReply(request: ApprovalRequest, event: AuditEvent): Promise<void> {
    if (!request.card) return;
    try {
      await this.client.chat.postMessage({
        channel: request.card.channel,
        thread_ts: request.card.ts,
        text: renderThreadEvent(request, event),
      });
    } catch (err) {
      this.log.error({ err: slackError(err), requestId: request.id, event: event.type }, 'thread reply failed');
    }
  }
}

/**
 * Web API errors carry the whole answer (and, for a failed request, the underlying error); keep only
 * what explains the failure.
 */
export function slackError(err: unknown): { name: string; code?: string; error?: string; status?: number; cause?: string } {
  if (err instanceof WebAPIPlatformError) return { name: err.name, code: err.code, error: err.data.error };
  if (err instanceof WebAPIHTTPError) return { name: err.name, code: err.code, status: err.statusCode };
  if (err instanceof WebAPIRequestError) return { name: err.name, code: err.code, ...systemCode(err.original) };
  if (err instanceof SlackError) return { name: err.name, code: err.code };
  return err instanceof Error ? { name: err.name, ...systemCode(err) } : { name: 'Error' };
}

/** `ECONNREFUSED` and the like (a failed fetch has it on its cause), never free text. */
function systemCode(original: Error): { cause?: string } {
  const causeOf = (e: unknown) => (e instanceof Error ? e.cause : undefined);
  for (const e of [original, causeOf(original)]) {
    const code = e !== null && typeof e === 'object' && 'code' in e ? e.code : undefined;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return { cause: code };
  }
  return {};
}
