import { Command } from 'commander';
import { eraseSubject } from '../core/proof';
import { withConsent } from './context';

/** `express-consent erase <subject>`: Art. 17 erasure of one subject. */
export function eraseCommand(): Command {
  return new Command('erase')
    .description('erase a subject (Art. 17): unlink it and remove personal fields; the chain still verifies')
    .argument('<subject>', 'the subject id as the application knows it')
    .option('--actor <name>', 'who asked, recorded with the erase event', 'express-consent cli')
    .action(async (subject: string, options: { actor: string }, command: Command) => {
      const result = await withConsent(command, (consent) =>
        eraseSubject(consent.engine, subject, { source: 'admin', actor: options.actor }),
      );
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
