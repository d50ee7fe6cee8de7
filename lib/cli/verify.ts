import { Command } from 'commander';
import { withConsent } from './context';
import { eventTotal } from './event-total';
import { EXIT } from './exit';
import { progress, type Progress } from './progress';

/** `express-consent verify`: checks the hash chains; exit 1 and a list when anything is wrong. */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('check the keyed hash chains of every subject (or of one); exit 1 on problems')
    .option('--subject <id>', 'only the chain of this subject id')
    .option('--json', 'print the result as JSON')
    .action(async (options: { subject?: string; json?: boolean }, command: Command) => {
      const whole = options.subject === undefined;
      let bar: Progress | null = null;
      const result = await withConsent(
        command,
        async (consent, tracker) => {
          bar = progress('verifying', whole ? await eventTotal(tracker) : 0);
          return consent.verify(whole ? {} : { subjectId: options.subject });
        },
        whole ? (n) => bar?.add(n) : undefined,
      );
      (bar as Progress | null)?.done();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        for (const problem of result.problems) process.stdout.write(`problem: ${problem.kind} at event ${problem.eventId}\n`);
        process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${String(result.checked)} events checked, ${String(result.problems.length)} problems\n`);
      }
      if (!result.ok) process.exitCode = EXIT.problems;
    });
}
