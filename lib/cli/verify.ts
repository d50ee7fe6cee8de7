import { Command } from 'commander';
import { countEvents } from '../ops/event-rows';
import { withConsent, withKnex } from './context';
import { EXIT } from './exit';
import { progress } from './progress';

/** `express-consent verify`: checks the hash chains; exit 1 and a list when anything is wrong. */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('check the keyed hash chains of every subject (or of one); exit 1 on problems')
    .option('--subject <id>', 'only the chain of this subject id')
    .option('--json', 'print the result as JSON')
    .action(async (options: { subject?: string; json?: boolean }, command: Command) => {
      const total = options.subject === undefined ? await withKnex(command, false, countEvents) : 0;
      const bar = progress('verifying', total);
      const result = await withConsent(
        command,
        (consent) => consent.verify(options.subject === undefined ? {} : { subjectId: options.subject }),
        options.subject === undefined ? (n) => bar.add(n) : undefined,
      );
      bar.done();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        for (const problem of result.problems) process.stdout.write(`problem: ${problem.kind} at event ${problem.eventId}\n`);
        process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${result.checked} events checked, ${result.problems.length} problems\n`);
      }
      if (!result.ok) process.exitCode = EXIT.problems;
    });
}
