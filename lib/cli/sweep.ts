import { Command } from 'commander';
import { withConsent } from './context';
import { EXIT } from './exit';

/**
 * `express-consent sweep`: records an `expire` event for every grant that lapsed; exits 1 when
 * it refused subjects whose stored rows fail their seal (as `verify` does on problems).
 */
export function sweepCommand(): Command {
  return new Command('sweep')
    .description('record an expire event (source sweep) for every grant whose expiry has passed; safe to repeat')
    .action(async (_options: unknown, command: Command) => {
      const result = await withConsent(command, (consent) => consent.sweep());
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (result.refused > 0) process.exitCode = EXIT.problems;
    });
}
