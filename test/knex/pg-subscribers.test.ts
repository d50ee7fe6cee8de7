import { expect } from 'chai';
import { Subscribers, type ListenerHandlers, type Subscriber } from '../../lib/knex/pg-subscribers';

/** A subscriber on `channel` that records what it was told, and throws from every handler when `throws`. */
function subscriber(channel: string, throws = false): Subscriber & { told: string[] } {
  const told: string[] = [];
  const say = (what: string): void => {
    told.push(what);
    if (throws) throw new Error(`${channel} handler failed`);
  };
  const handlers: ListenerHandlers = {
    onMessage: (payload) => { say(`message ${payload}`); },
    onReset: () => { say('reset'); },
    onSynced: () => { say('synced'); },
    onError: (error) => { told.push(`error ${(error as Error).message}`); if (throws) throw error; },
  };
  return { channel, handlers, from: 0, told };
}

describe('the subscribers of a shared PostgreSQL listener', () => {
  it('tell every subscriber, though one handler throws: its error goes to its own onError, then it drops its cache', () => {
    const subscribers = new Subscribers();
    const failing = subscriber('a', true);
    const [first, second] = [subscriber('a'), subscriber('a')];
    const other = subscriber('b');
    for (const s of [first, failing, second, other]) subscribers.add(s);
    subscribers.message('a', 'p1');
    subscribers.synced(5);
    subscribers.each((h) => { h.onReset(); });
    expect(first.told).to.deep.equal(['message p1', 'synced', 'reset']);
    expect(second.told).to.deep.equal(['message p1', 'synced', 'reset']);
    // Each failure: its onError, then its onReset (which throws too, and is dropped).
    expect(failing.told).to.deep.equal([
      'message p1', 'error a handler failed', 'reset',
      'synced', 'error a handler failed', 'reset',
      'reset', 'error a handler failed', 'reset',
    ]);
    expect(other.told).to.deep.equal(['synced', 'reset']);
  });
});
