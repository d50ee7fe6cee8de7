import { Command } from 'commander';
import { actorProblems } from '../core/input';
import { eraseSubject } from '../core/proof';
import { withConsent } from './context';
import { printable, usage } from './exit';

/** `express-consent erase <subject>`: Art. 17 erasure of one subject. */
export function eraseCommand(): Command {
  return new Command('erase')
    .description('erase a subject (Art. 17): unlink it and remove personal fields; the chain still verifies')
    .argument('<subject>', 'the subject id as the application knows it')
    .option('--actor <name>', 'who asked, recorded with the erase event (1-256 characters)', 'express-consent cli')
    .action(async (subject: string, options: { actor: string }, command: Command) => {
      // The rule of every actor the library records (`record()`, the admin routes).
      const [problem] = actorProblems(options.actor, '--actor');
      if (problem !== undefined) throw usage(`--actor ${printable(problem.detail)}`);
      const result = await withConsent(command, (consent) =>
        eraseSubject(consent.engine, subject, { source: 'admin', actor: options.actor }),
      // An erasure uses no requirement text: it goes through on a store whose texts were changed.
      { allowAltered: true });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
