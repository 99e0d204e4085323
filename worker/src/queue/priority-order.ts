/**
 * Which priority a source looks at first: manual, then ci, then scheduled, except that every `every`-th job it
 * takes starts one level lower (ci and scheduled in turn), so a steady flow of manual jobs cannot starve the
 * others. The control plane's in-process queue applies the same rule (queue/priority-order.ts there).
 */
import { JOB_PRIORITIES } from './names.js';
import type { JobPriority } from './types.js';

/** Default of `lowerPriorityEvery`: one job in ten may come from a lower priority while higher ones wait. */
export const DEFAULT_LOWER_PRIORITY_EVERY = 10;

/** The order to try the priorities in for the `taken`-th job (0-based) of one source; `every` 0 = strict. */
export function priorityOrder(taken: number, every: number): readonly JobPriority[] {
  if (every <= 0 || taken % every !== every - 1) return JOB_PRIORITIES;
  const boosted: JobPriority = Math.floor(taken / every) % 2 === 0 ? 'ci' : 'scheduled';
  return [boosted, ...JOB_PRIORITIES.filter((p) => p !== boosted)];
}
