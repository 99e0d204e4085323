import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS, commandsFor } from './index.js';

const names = (argv: string[]) => commandsFor(argv).map((c) => c.name());

describe('command table', () => {
  it('names exactly the commands each entry builds', () => {
    expect(COMMAND_GROUPS.map((g) => g.build().map((c) => c.name()))).toEqual(
      COMMAND_GROUPS.map((g) => [...g.names]),
    );
  });

  it('builds only the called command, and every command for anything else', () => {
    const all = COMMAND_GROUPS.flatMap((g) => g.names);
    expect({
      image: names(['node', 'vigil', 'image', '--input', 'x.tar']),
      db: names(['node', 'vigil', 'db', 'status']),
      worker: names(['node', 'vigil', 'worker']),
      none: names(['node', 'vigil']),
      help: names(['node', 'vigil', '--help']),
      helpCommand: names(['node', 'vigil', 'help', 'image']),
      unknown: names(['node', 'vigil', 'imag']),
    }).toEqual({
      image: ['image'],
      db: ['db'],
      worker: ['server', 'control-plane', 'worker'],
      none: all,
      help: all,
      helpCommand: all,
      unknown: all,
    });
  });
});
