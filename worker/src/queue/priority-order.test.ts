import { describe, expect, it } from 'vitest';
import { priorityOrder } from './priority-order.js';

describe('priorityOrder', () => {
  it('is_strict_except_every_nth_job_which_starts_one_level_lower_in_turn', () => {
    const firstChoice = (every: number) =>
      Array.from({ length: 8 }, (_, taken) => priorityOrder(taken, every)[0]);
    expect({
      strict: firstChoice(0),
      everyFourth: firstChoice(4),
      boostedOrder: priorityOrder(3, 4),
    }).toEqual({
      strict: ['manual', 'manual', 'manual', 'manual', 'manual', 'manual', 'manual', 'manual'],
      everyFourth: ['manual', 'manual', 'manual', 'ci', 'manual', 'manual', 'manual', 'scheduled'],
      boostedOrder: ['ci', 'manual', 'scheduled', 'rematch'],
    });
  });
});
