/**
 * The command table of `vigil`, in help order. Each entry names the commands it makes, so that a
 * run of `vigil <command> …` builds only that command's definition (its options, choices and
 * sub-commands) and not the whole tree: part of start-up on every run (bench B2).
 */
import type { Command } from 'commander';
import { dbCommand } from './db.js';
import { remoteScanCommand } from './remote-scan.js';
import { fsCommand, imageCommand, rootfsCommand, sbomCommand } from './scan.js';
import { platformCommands } from './server.js';

export interface CommandGroup {
  /** the names of the commands `build` returns */
  names: readonly string[];
  build: () => Command[];
}

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  { names: ['image'], build: () => [imageCommand()] },
  { names: ['fs'], build: () => [fsCommand()] },
  { names: ['rootfs'], build: () => [rootfsCommand()] },
  { names: ['sbom'], build: () => [sbomCommand()] },
  { names: ['db'], build: () => [dbCommand()] },
  { names: ['remote-scan'], build: () => [remoteScanCommand()] },
  { names: ['server', 'control-plane', 'worker'], build: platformCommands },
];

/**
 * The commands a run with these arguments (`process.argv`: node, script, …) needs: the one it
 * calls when the first argument names a command, else all of them (no command, `--help`,
 * `--version`, `help <command>`, an unknown command, whose error suggests the nearest name).
 * Commander parses, dispatches and prints a command's help and errors alike either way.
 */
export function commandsFor(argv: readonly string[]): Command[] {
  const called = COMMAND_GROUPS.find((g) => g.names.includes(argv[2] ?? ''));
  return (called ? [called] : COMMAND_GROUPS).flatMap((g) => g.build());
}
