/**
 * `vigil` entry point: wires the commands, maps errors to exit codes, prints errors on stderr.
 */
import { Command, CommanderError } from 'commander';
import { isEngineError, REPORT_TOOL } from '@vigil/engine/core';
import { fsCommand, imageCommand, rootfsCommand, sbomCommand } from './commands/scan.js';
import { dbCommand } from './commands/db.js';
import { platformCommands } from './commands/server.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

const { version } = REPORT_TOOL;

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil: find known vulnerabilities in container images')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of [imageCommand(), fsCommand(), rootfsCommand(), sbomCommand()])
    program.addCommand(cmd.exitOverride());
  program.addCommand(dbCommand().exitOverride());
  for (const cmd of platformCommands()) program.addCommand(cmd.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // a scan's gate (--exit-code) sets process.exitCode; errors are handled below
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    const code = exitCodeFor(e);
    const message = isEngineError(e)
      ? `${e.code}: ${e.message}`
      : e instanceof Error
        ? (e.stack ?? e.message)
        : String(e);
    process.stderr.write(`vigil: ${message}\n`);
    return code;
  }
}

// no top-level await: the bundle is one CommonJS file (see launch.ts)
void main(process.argv).then((code) => {
  process.exitCode = code;
});
