/**
 * `vigil` entry point: wires the commands, maps errors to exit codes, prints errors on stderr.
 */
import { Command, CommanderError } from 'commander';
import { isEngineError, REPORT_TOOL } from '@vigil/engine';
import { fsCommand, imageCommand, rootfsCommand } from './commands/scan.js';
import { dbCommand } from './commands/db.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

const { version } = REPORT_TOOL;

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil: find known vulnerabilities in container images')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of [imageCommand(), fsCommand(), rootfsCommand()]) program.addCommand(cmd.exitOverride());
  program.addCommand(dbCommand().exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
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

process.exitCode = await main(process.argv);
