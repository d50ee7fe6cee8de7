import type { Registry } from '../registry/registry';
import type { CurrentRecord } from '../tracker/records';
import type { StateInfo } from '../types';
import { isPending, stateInfo } from './derive';

/** The states of every requirement current at `now`, in registration order, from a subject's records. */
export function statesOf(registry: Pick<Registry, 'ordered'>, records: readonly CurrentRecord[], now: number, gpc = false): Record<string, StateInfo> {
  const byId = new Map(records.map((record) => [record.requirement, record]));
  const states: Record<string, StateInfo> = {};
  for (const requirement of registry.ordered(now)) states[requirement.id] = stateInfo(byId.get(requirement.id), requirement, now, gpc);
  return states;
}

/** The ids of the requirements still waiting for the subject's answer, in registration order. */
export function pendingOf(registry: Pick<Registry, 'ordered'>, states: Record<string, StateInfo>): string[] {
  return registry.ordered().filter((r) => isPending(r, states[r.id] as StateInfo)).map((r) => r.id);
}
