import type { Plan } from '../../core/plan';
import { PLATFORMS } from '../../core/types';

/** `/ivs plan` answer: counts per platform before/after, guard results, the steps and approvals. */
export function renderPlan(plan: Plan, workspace: string): string {
  const counts = PLATFORMS.map((p) => `${p}: ${plan.before[p]} → ${plan.after[p]}`).join(' · ');
  const checks = plan.checks.map((c) => `${c.ok ? '✓' : c.blocking ? '✗' : '!'} ${c.text}`);
  return [
    `*Dry run of ${plan.action}* in workspace \`${workspace}\` (nothing was changed, nothing was requested)`,
    `Secrets per platform: ${counts}`,
    ...checks,
    ...plan.steps.map((s) => `• ${s}`),
  ].join('\n');
}
