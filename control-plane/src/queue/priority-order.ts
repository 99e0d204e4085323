/**
 * Which priority a consumer looks at first: manual, then ci, then scheduled, except that every `every`-th job it
 * takes starts one level lower (ci and scheduled in turn), so a steady flow of manual jobs cannot starve the
 * others. The worker's queue/jetstream/priority-order.ts is the same rule (the packages share no code).
 */
import { SCAN_PRIORITIES, type ScanPriority } from '../services/types.js';

/** Default of `lowerPriorityEvery`: one job in ten may come from a lower priority while higher ones wait. */
export const DEFAULT_LOWER_PRIORITY_EVERY = 10;

/** The order to try the priorities in for the `taken`-th job (0-based) of one consumer; `every` 0 = strict. */
export function priorityOrder(taken: number, every: number): readonly ScanPriority[] {
  if (every <= 0 || taken % every !== every - 1) return SCAN_PRIORITIES;
  const boosted: ScanPriority = Math.floor(taken / every) % 2 === 0 ? 'ci' : 'scheduled';
  return [boosted, ...SCAN_PRIORITIES.filter((p) => p !== boosted)];
}
