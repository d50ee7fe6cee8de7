import { createPublicKey } from 'node:crypto';
import { Command } from 'commander';
import { isCheckpointShaped, verifyCheckpoint, type Checkpoint } from '../audit/checkpoint';
import { storedReceiptPublicKey } from '../core/receipt-key';
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
  const text = withoutMark(readSmallFile(file, 'a checkpoint'));
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
  const text = withoutMark(readSmallFile(file, 'a public key'));
  let key: unknown = text;
  if (text.trimStart().startsWith('{')) {
    try {
      key = (JSON.parse(text) as { publicKey?: unknown }).publicKey;
    } catch {
      key = null;
    }
  }
  // Node would take a private key for its public half: say what the file holds instead.
  if (typeof key === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw usage(`${file} holds a private key: give the receipts public key (SPKI PEM, or the JSON of GET /receipts/key)`);
  }
  // Checked here: a file that holds no key would read as a checkpoint whose signature fails.
  if (typeof key === 'string' && isPublicKey(key)) return key;
  throw usage(`${file} holds no public key: give the SPKI PEM, or the JSON of GET /receipts/key`);
}

/** Whether `pem` is a public key Node reads. */
function isPublicKey(pem: string): boolean {
  try {
    createPublicKey(pem);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a problem is, in words: its event, or for a problem without one its place, a position in
 * a subject's chain (`<chain>:<seq>`) or `log:7`, `checkpoint:3`, `requirement:terms:2` as it is.
 */
export function problemPlace(id: string): string {
  const place = /^([0-9a-f]+):([0-9]+)$/.exec(id);
  if (place) return `position ${String(place[2])} of chain ${String(place[1])}`;
  return id === 'log' || id.includes(':') ? id : `event ${id}`;
}

/** A file's text without the byte-order mark an editor may have put first. */
const withoutMark = (text: string): string => (text.startsWith('\ufeff') ? text.slice(1) : text);

/** `express-consent verify`: checks the hash chains and the global log; exit 1 and a list when anything is wrong. */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('check the keyed hash chains and the global log (or one subject\'s chain); exit 1 on problems')
    .option('--subject <id>', 'only the chain of this subject id')
    .option('--checkpoint <file>', 'also check that the database still extends this saved checkpoint (nothing rolled back)')
    .option('--public-key <file>', 'with --checkpoint: the receipts public key it is signed with (SPKI PEM, or the JSON of GET /receipts/key); without it, the development key kept with the data')
    .option('--json', 'print the result as JSON')
    .action(async (options: { subject?: string; checkpoint?: string; publicKey?: string; json?: boolean }, command: Command) => {
      const whole = options.subject === undefined;
      if (!whole && options.checkpoint !== undefined) throw usage('--checkpoint checks the whole database: leave out --subject');
      if (options.publicKey !== undefined && options.checkpoint === undefined) throw usage('--public-key is the key of a checkpoint: give --checkpoint too');
      const checkpoint = options.checkpoint === undefined ? undefined : readCheckpoint(options.checkpoint);
      const given = options.publicKey === undefined ? undefined : readKey(options.publicKey);
      let bar: Progress | null = null;
      const result = await withConsent(
        command,
        async (consent, tracker) => {
          // One subject's events are few: no bar to draw.
          if (!whole) return consent.verify({ subjectId: options.subject });
          if (checkpoint === undefined) {
            bar = progress('verifying', await eventTotal(tracker));
            return consent.verify({});
          }
          // The command holds no key of the application: the one given, else the development key
          // an application without `receipts.privateKey` keeps with the data.
          const publicKey = given ?? (await storedReceiptPublicKey(tracker));
          if (publicKey === null) {
            throw usage('this database keeps no development receipts key: give --public-key FILE, the receipts public key the checkpoint is signed with (SPKI PEM, or the JSON of GET /receipts/key)');
          }
          if (isCheckpointShaped(checkpoint) && !verifyCheckpoint(checkpoint, publicKey)) {
            const key = given === undefined ? 'the development receipts key kept with the data (give --public-key FILE if the application signs with its own)' : `the key in ${String(options.publicKey)}`;
            throw usage(`the checkpoint's signature does not verify with ${key}: it was changed after it was signed, or signed with another key`);
          }
          bar = progress('verifying', await eventTotal(tracker));
          return consent.verify({ checkpoint, publicKey });
        },
        // A version whose text changed in the database is a problem this command reports.
        { allowAltered: true, ...(whole ? { onEvents: (n: number) => bar?.add(n) } : {}) },
      );
      (bar as Progress | null)?.done();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        for (const problem of result.problems) process.stdout.write(`problem: ${problem.kind} at ${problemPlace(problem.eventId)}\n`);
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
