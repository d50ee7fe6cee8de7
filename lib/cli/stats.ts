import { Command } from 'commander';
import { adminStats, type AdminStats } from '../core/admin-stats';
import { STATES } from '../vocabulary';
import { normalizeRequirement } from '../registry/validate';
import { withTracker } from './context';
import { latestDefinitions } from './stored-requirements';

function table(stats: AdminStats): string {
  const lines = [`subjects: ${String(stats.subjects)}`, ''];
  lines.push(['requirement', 'version', ...STATES].join('\t'));
  for (const [id, requirement] of Object.entries(stats.requirements)) {
    const versions = Object.entries(requirement.versions).sort(([a], [b]) => Number(b) - Number(a));
    for (const [version, counts] of versions) lines.push([id, version, ...STATES.map((s) => (s === 'unset' ? 0 : counts[s]))].join('\t'));
    if (requirement.states.unset > 0) lines.push([id, '-', ...STATES.map((s) => (s === 'unset' ? requirement.states.unset : 0))].join('\t'));
    lines.push([id, `all (current v${String(requirement.version)})`, ...STATES.map((s) => requirement.states[s])].join('\t'));
  }
  lines.push('', 'action\tevents');
  for (const [action, count] of Object.entries(stats.events)) lines.push(`${action}\t${String(count)}`);
  const outbox = Object.entries(stats.outbox);
  if (outbox.length > 0) lines.push('', 'outbox handler\tentries\tearliest due');
  for (const [handler, { entries, earliestDueAt }] of outbox) lines.push(`${handler}\t${String(entries)}\t${earliestDueAt}`);
  return `${lines.join('\n')}\n`;
}

/** `express-consent stats`: subjects per requirement, version and state; events per action. */
export function statsCommand(): Command {
  return new Command('stats')
    .description('count subjects per requirement, version and state, and events per action')
    .option('--json', 'print the counts as JSON (the document GET /admin/stats answers)')
    .action(async (options: { json?: boolean }, command: Command) => {
      // Counting needs the stored requirements only, not the secret: grouped counts from the
      // store, derived exactly as `GET /admin/stats` derives them.
      const stats = await withTracker(command, false, async (tracker) => {
        const now = Date.now();
        // The version current now of each requirement (versions scheduled later follow it).
        const definitions = latestDefinitions(await tracker.allRequirementVersions(), now);
        const requirements = definitions.filter((d, i) => definitions.findIndex((e) => e.id === d.id) === i).map(normalizeRequirement);
        return adminStats(requirements, now, await tracker.stats(now));
      });
      process.stdout.write(options.json ? `${JSON.stringify(stats)}\n` : table(stats));
    });
}
