import { Command } from 'commander';
import type { Row } from '../knex/rows';
import { latestDefinitions, storedVersions } from '../ops/stored-registry';
import { collectStats, STATES, type ConsentStats } from '../ops/stats';
import { normalizeRequirement } from '../registry/validate';
import { withKnex } from './context';
import { progress } from './progress';

function table(stats: ConsentStats): string {
  const lines = [`subjects: ${stats.subjects}`, ''];
  lines.push(['requirement', 'version', ...STATES].join('\t'));
  for (const requirement of stats.requirements) {
    for (const v of requirement.versions) {
      lines.push([requirement.id, v.version ?? '-', ...STATES.map((s) => v.counts[s])].join('\t'));
    }
    lines.push([requirement.id, `all (current v${requirement.version})`, ...STATES.map((s) => requirement.total[s])].join('\t'));
  }
  lines.push('', 'action\tevents');
  for (const [action, count] of Object.entries(stats.actions)) lines.push(`${action}\t${count}`);
  return `${lines.join('\n')}\n`;
}

/** `express-consent stats`: subjects per requirement, version and state; events per action. */
export function statsCommand(): Command {
  return new Command('stats')
    .description('count subjects per requirement, version and state, and events per action')
    .option('--json', 'print the counts as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      // Counting needs the stored requirements only, not the secret.
      const stats = await withKnex(command, false, async (knex, prefix) => {
        const requirements = latestDefinitions(await storedVersions(knex, prefix)).map(normalizeRequirement);
        const row: Row | undefined = await knex(`${prefix}states`).count({ n: '*' }).first();
        const bar = progress('counting', Number(row?.n ?? 0));
        const result = await collectStats(knex, prefix, requirements, Date.now(), (n) => bar.add(n));
        bar.done();
        return result;
      });
      process.stdout.write(options.json ? `${JSON.stringify(stats)}\n` : table(stats));
    });
}
