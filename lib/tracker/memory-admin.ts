import type { Action } from '../types';
import type { AuditEvent, AuditQuery, DailyCount, StoreStats } from './admin-records';
import { StateGroups } from './state-groups';
import type { CurrentRecord, StoredEvent } from './records';

/** The parts of a memory chain the admin queries read. */
export interface MemoryChainView {
  head: { chain: string };
  records: Map<string, CurrentRecord>;
  events: StoredEvent[];
}

/** `MemoryTracker.auditEvents`: filters every event, then pages by numeric id. */
export function auditPage(linked: Map<string, string>, chains: Iterable<MemoryChainView>, query: AuditQuery): AuditEvent[] {
  const pseudonymOf = new Map([...linked].map(([pseudonym, chain]) => [chain, pseudonym]));
  const sign = query.order === 'newest' ? -1 : 1;
  const cursor = query.cursor === undefined ? undefined : Number(query.cursor);
  const out: AuditEvent[] = [];
  for (const chain of chains) {
    for (const event of chain.events) {
      const id = Number(event.id);
      if (query.requirement !== undefined && event.requirement !== query.requirement) continue;
      if (query.action !== undefined && event.action !== query.action) continue;
      if (query.source !== undefined && event.source !== query.source) continue;
      if (query.context !== undefined && event.context !== query.context) continue;
      if (query.actor !== undefined && event.actor !== query.actor) continue;
      if (query.from !== undefined && event.at < query.from) continue;
      if (query.to !== undefined && event.at >= query.to) continue;
      if (cursor !== undefined && sign * (id - cursor) <= 0) continue;
      out.push({ ...event, subject: pseudonymOf.get(chain.head.chain) ?? null });
    }
  }
  return out.sort((a, b) => sign * (Number(a.id) - Number(b.id))).slice(0, query.limit);
}

/** `MemoryTracker.stats`: the same groups the SQL query returns. */
export function memoryStats(
  subjects: number,
  chains: Iterable<MemoryChainView>,
  now: number,
): StoreStats {
  const groups = new StateGroups(now);
  const actions: Partial<Record<Action, number>> = {};
  for (const chain of chains) {
    for (const event of chain.events) actions[event.action] = (actions[event.action] ?? 0) + 1;
    for (const r of chain.records.values()) groups.add(r);
  }
  return { subjects, groups: groups.list(), actions };
}

const DAY_MS = 86_400_000;

/** `MemoryTracker.dailyCounts`: events at or after `from`, counted per UTC day and action. */
export function memoryDailyCounts(chains: Iterable<MemoryChainView>, from: number): DailyCount[] {
  const counts = new Map<string, DailyCount>();
  for (const chain of chains) {
    for (const event of chain.events) {
      if (event.at < from) continue;
      const day = new Date(Math.floor(event.at / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      const key = `${day} ${event.action}`;
      const entry = counts.get(key) ?? { day, action: event.action, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
  }
  return [...counts.values()];
}
