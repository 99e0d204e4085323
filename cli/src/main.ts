/**
 * `vigil` entry point: wires the commands, maps errors to exit codes, prints errors on stderr.
 */
import { Command, CommanderError } from 'commander';
import { isEngineError, REPORT_TOOL } from '@vigil/engine/core';
import { commandsFor } from './commands/index.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { isFleetError } from './fleet/errors.js';

const { version } = REPORT_TOOL;

/** The program for these arguments: every command, or only the one they call (see commandsFor). */
export function buildProgram(argv: readonly string[]): Command {
  const program = new Command('vigil')
    .description('Vigil: find known vulnerabilities in container images')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of commandsFor(argv)) program.addCommand(cmd.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram(argv).parseAsync(argv);
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
    const message =
      isEngineError(e) || isFleetError(e)
        ? `${e.code}: ${e.message}`
        : e instanceof Error
          ? (e.stack ?? e.message)
          : String(e);
    process.stderr.write(`vigil: ${message}\n`);
    return code;
  }
}

// no top-level await: the bundle is one CommonJS file (see launch.cts). The run ends here:
// process.exit skips tearing down V8's heap and Node's environment (unmapping every heap page,
// joining threads), several ms of every run; output is written synchronously (output/write.ts)
// or awaited, and nothing else is left to run by then.
void main(process.argv).then((code) => process.exit(code));
