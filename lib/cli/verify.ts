import { Command } from 'commander';
import type { Checkpoint } from '../audit/checkpoint';
import { duplicateKeyPointer } from '../duplicate-keys';
import { readSmallFile } from './bounded-read';
import { withConsent } from './context';
import { eventTotal } from './event-total';
import { EXIT, usage } from './exit';
import { progress, type Progress } from './progress';

/**
 * The checkpoint in `file`, parsed (its shape is checked by `verify`). A member given twice is
 * refused: JSON.parse would check the last one while a person reading the file sees the first.
 */
function readCheckpoint(file: string): Checkpoint {
  const text = readSmallFile(file, 'a checkpoint');
  let checkpoint: Checkpoint;
  try {
    checkpoint = JSON.parse(text) as Checkpoint;
  } catch {
    throw usage(`${file} is not JSON: give a checkpoint saved from GET /admin/checkpoint or consent.checkpoint()`);
  }
  const twice = duplicateKeyPointer(text);
  if (twice !== null) throw usage(`${file} gives the member ${twice} twice: a checkpoint says each thing once`);
  return checkpoint;
}

/** The public key in `file`: SPKI PEM, or the JSON `GET /receipts/key` answers. */
function readKey(file: string): string {
  const text = readSmallFile(file, 'a public key');
  if (!text.trimStart().startsWith('{')) return text;
  try {
    const key = (JSON.parse(text) as { publicKey?: unknown }).publicKey;
    if (typeof key === 'string') return key;
  } catch {
    // reported below
  }
  throw usage(`${file} holds no public key: give the SPKI PEM, or the JSON of GET /receipts/key`);
}

/** `express-consent verify`: checks the hash chains and the global log; exit 1 and a list when anything is wrong. */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('check the keyed hash chains and the global log (or one subject\'s chain); exit 1 on problems')
    .option('--subject <id>', 'only the chain of this subject id')
    .option('--checkpoint <file>', 'also check that the database still extends this saved checkpoint (nothing rolled back)')
    .option('--public-key <file>', 'with --checkpoint: the receipts public key it is signed with (SPKI PEM, or the JSON of GET /receipts/key)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { subject?: string; checkpoint?: string; publicKey?: string; json?: boolean }, command: Command) => {
      const whole = options.subject === undefined;
      if (!whole && options.checkpoint !== undefined) throw usage('--checkpoint checks the whole database: leave out --subject');
      if (options.publicKey !== undefined && options.checkpoint === undefined) throw usage('--public-key is the key of a checkpoint: give --checkpoint too');
      // The command holds no receipts key of the application: it is told which key signed the checkpoint.
      if (options.checkpoint !== undefined && options.publicKey === undefined) {
        throw usage('--checkpoint needs --public-key FILE: the receipts public key the checkpoint is signed with (SPKI PEM, or the JSON of GET /receipts/key)');
      }
      const checkpoint = options.checkpoint === undefined ? undefined : readCheckpoint(options.checkpoint);
      const publicKey = options.publicKey === undefined ? undefined : readKey(options.publicKey);
      let bar: Progress | null = null;
      const result = await withConsent(
        command,
        async (consent, tracker) => {
          bar = progress('verifying', whole ? await eventTotal(tracker) : 0);
          if (!whole) return consent.verify({ subjectId: options.subject });
          return consent.verify(checkpoint === undefined ? {} : { checkpoint, publicKey });
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
