import type { Plan } from '../../core/plan';
import type { DueSecret } from '../../core/ports';
import { PLATFORMS } from '../../core/types';
import { daysText } from '../mrkdwn';
import { secretIdText } from './describe';

/** At most this many due secrets are named in a plan; the rest are counted. */
const MAX_DUE_NAMED = 20;

/**
 * `/ivs plan` answer: counts per platform before/after, guard results, the steps and approvals,
 * and (with a rotation policy) every secret due for rotation with its age.
 */
export function renderPlan(plan: Plan, workspace: string, due: readonly DueSecret[] = [], rotateAfterMs?: number): string {
  const counts = PLATFORMS.map((p) => `${p}: ${plan.before[p]} → ${plan.after[p]}`).join(' · ');
  const checks = plan.checks.map((c) => `${c.ok ? '✓' : c.blocking ? '✗' : '!'} ${c.text}`);
  return [
    `*Dry run of ${plan.action}* in workspace \`${workspace}\` (nothing was changed, nothing was requested)`,
    `Secrets per platform: ${counts}`,
    ...checks,
    ...plan.steps.map((s) => `• ${s}`),
    ...dueLine(due, rotateAfterMs),
  ].join('\n');
}

function dueLine(due: readonly DueSecret[], rotateAfterMs: number | undefined): string[] {
  if (rotateAfterMs === undefined || due.length === 0) return [];
  const named = due.slice(0, MAX_DUE_NAMED).map((d) => `${secretIdText(d.secret.id)} (${daysText(d.ageMs)} old)`);
  const more = due.length > MAX_DUE_NAMED ? ` and ${due.length - MAX_DUE_NAMED} more` : '';
  return [`:calendar: Due for rotation (older than ${daysText(rotateAfterMs)}): ${named.join(', ')}${more}`];
}
