import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { Checkpoint } from '../audit/checkpoint';
import { withConsent } from './context';
import { eventTotal } from './event-total';
import { EXIT, usage } from './exit';
import { progress, type Progress } from './progress';

/** The checkpoint in `file`, parsed (its shape is checked by `verify`). */
function readCheckpoint(file: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw usage(`cannot read ${file}`);
  }
  try {
    return JSON.parse(text) as Checkpoint;
  } catch {
    throw usage(`${file} is not JSON: give a checkpoint saved from GET /admin/checkpoint or consent.checkpoint()`);
  }
}

/** `express-consent verify`: checks the hash chains and the global log; exit 1 and a list when anything is wrong. */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('check the keyed hash chains and the global log (or one subject\'s chain); exit 1 on problems')
    .option('--subject <id>', 'only the chain of this subject id')
    .option('--checkpoint <file>', 'also check that the database still extends this saved checkpoint (nothing rolled back)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { subject?: string; checkpoint?: string; json?: boolean }, command: Command) => {
      const whole = options.subject === undefined;
      if (!whole && options.checkpoint !== undefined) throw usage('--checkpoint checks the whole database: leave out --subject');
      const checkpoint = options.checkpoint === undefined ? undefined : readCheckpoint(options.checkpoint);
      let bar: Progress | null = null;
      const result = await withConsent(
        command,
        async (consent, tracker) => {
          bar = progress('verifying', whole ? await eventTotal(tracker) : 0);
          return consent.verify(whole ? { checkpoint } : { subjectId: options.subject });
        },
        whole ? (n) => bar?.add(n) : undefined,
      );
      (bar as Progress | null)?.done();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        for (const problem of result.problems) process.stdout.write(`problem: ${problem.kind} at event ${problem.eventId}\n`);
        if (checkpoint !== undefined && result.problems.some((p) => p.eventId.startsWith('checkpoint:'))) {
          process.stdout.write(
            `ROLLBACK: the database does not extend the checkpoint of ${String(checkpoint.size)} events issued at ${checkpoint.issuedAt}: ` +
              'it was restored from an earlier copy or its history was rewritten\n',
          );
        }
        process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${String(result.checked)} events checked, ${String(result.problems.length)} problems\n`);
      }
      if (!result.ok) process.exitCode = EXIT.problems;
    });
}
