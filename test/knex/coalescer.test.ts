import { expect } from 'chai';
import { Coalescer, type Outcome } from '../../lib/knex/coalescer';

/** A run function that records its batches and answers when told to. */
function recorder<I>() {
  const batches: I[][] = [];
  const gates: Array<() => void> = [];
  const run = (inputs: I[]): Promise<Outcome<string>[]> => {
    batches.push(inputs);
    return new Promise((resolve) => {
      gates.push(() => { resolve(inputs.map((input) => ({ ok: true, value: `done ${String(input)}` }))); });
    });
  };
  const openNext = async () => {
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, run, openNext };
}

describe('Coalescer', () => {
  it('starts a lone request at once and batches those made while it runs', async () => {
    const { batches, run, openNext } = recorder<number>();
    const coalescer = new Coalescer(run, { concurrency: 1, maxBatch: 10 });
    const first = coalescer.submit(1);
    expect(batches).to.deep.equal([[1]]);
    const later = [2, 3, 4].map((n) => coalescer.submit(n));
    expect(batches).to.have.length(1, 'nothing else starts while the run is in flight');
    await openNext();
    expect(await first).to.equal('done 1');
    expect(batches).to.deep.equal([[1], [2, 3, 4]]);
    await openNext();
    expect(await Promise.all(later)).to.deep.equal(['done 2', 'done 3', 'done 4']);
  });

  it('keeps runs to maxBatch, oldest first', async () => {
    const { batches, run, openNext } = recorder<number>();
    const coalescer = new Coalescer(run, { concurrency: 1, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => coalescer.submit(n));
    for (let i = 0; i < 3; i += 1) await openNext();
    await Promise.all(all);
    expect(batches).to.deep.equal([[1], [2, 3], [4, 5]]);
  });

  it('never puts two inputs of one key in a run, and keeps their order', async () => {
    const { batches, run, openNext } = recorder<string>();
    const coalescer = new Coalescer(run, { concurrency: 1, maxBatch: 10, key: (s) => s.split(':')[0] as string });
    const all = ['a:1', 'a:2', 'b:1', 'a:3', 'c:1', 'b:2'].map((s) => coalescer.submit(s));
    for (let i = 0; i < 4; i += 1) await openNext();
    await Promise.all(all);
    expect(batches).to.deep.equal([['a:1'], ['a:2', 'b:1', 'c:1'], ['a:3', 'b:2']]);
  });

  it('runs up to `concurrency` batches at once', async () => {
    const { batches, run, openNext } = recorder<number>();
    const coalescer = new Coalescer(run, { concurrency: 2, maxBatch: 10 });
    const all = [1, 2, 3, 4].map((n) => coalescer.submit(n));
    expect(batches).to.deep.equal([[1], [2]]);
    await openNext();
    await openNext();
    await openNext();
    await Promise.all(all);
    expect(batches).to.deep.equal([[1], [2], [3, 4]]);
  });

  it('rejects only the inputs a run failed, and every input of a run that threw', async () => {
    let calls = 0;
    const coalescer = new Coalescer<number, number>(
      async (inputs) => {
        calls += 1;
        if (inputs.includes(99)) throw new Error('the store is down');
        return inputs.map((n) => (n % 2 ? { ok: false, error: new Error(`odd ${String(n)}`) } : { ok: true, value: n * 10 }));
      },
      { concurrency: 1, maxBatch: 10 },
    );
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => coalescer.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).to.deep.equal([
      'odd 1',
      20,
      'odd 3',
      40,
    ]);
    const down = await Promise.allSettled([coalescer.submit(6), coalescer.submit(99), coalescer.submit(8)]);
    expect(down.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'rejected']);
    expect(calls).to.equal(4);
    expect(await coalescer.submit(10)).to.equal(100, 'a failed run does not stop the next');
  });

  it('with `gather`, starts a run only after the current turn of the event loop, with everything made until then', async () => {
    const batches: number[][] = [];
    // A synchronous run: nothing else gets to run while it works.
    const coalescer = new Coalescer<number, number>(
      (inputs) => {
        batches.push(inputs);
        return Promise.resolve(inputs.map((n) => ({ ok: true as const, value: n })));
      },
      { concurrency: 1, maxBatch: 10, gather: true },
    );
    const first = coalescer.submit(1);
    expect(batches, 'nothing runs in the turn of the first request').to.deep.equal([]);
    // Requests made by other callbacks of the same turn (I/O of other connections) join it.
    const sameTurn = await new Promise<Array<Promise<number>>>((resolve) => {
      process.nextTick(() => { resolve([coalescer.submit(2), coalescer.submit(3)]); });
    });
    expect(await Promise.all([first, ...sameTurn])).to.deep.equal([1, 2, 3]);
    expect(batches).to.deep.equal([[1, 2, 3]]);
    // A later request alone runs alone.
    const lone = await coalescer.submit(4);
    expect(lone).to.equal(4);
    expect(batches).to.deep.equal([[1, 2, 3], [4]]);
  });

  it('with `lingerMs`, waits after a run of several for as many inputs, and never before a lone one', async () => {
    const { batches, run, openNext } = recorder<number>();
    const coalescer = new Coalescer(run, { concurrency: 1, maxBatch: 10, lingerMs: 10_000 });
    const lone = coalescer.submit(1);
    expect(batches, 'a lone input starts at once').to.deep.equal([[1]]);
    const group = [2, 3, 4].map((n) => coalescer.submit(n));
    await openNext();
    await lone;
    expect(batches).to.deep.equal([[1], [2, 3, 4]]);
    await openNext();
    await Promise.all(group);
    // The writers of the last run come back one by one: the next run waits until all three are in.
    const next = [coalescer.submit(5)];
    await new Promise((r) => setImmediate(r));
    next.push(coalescer.submit(6));
    await new Promise((r) => setImmediate(r));
    expect(batches, 'still waiting for a third input').to.have.length(2);
    next.push(coalescer.submit(7));
    await new Promise((r) => setImmediate(r));
    expect(batches).to.deep.equal([[1], [2, 3, 4], [5, 6, 7]]);
    await openNext();
    await Promise.all(next);
  });

  it('with `lingerMs`, stops waiting after lingerMs, and a lone input after an idle moment starts at once', async () => {
    const { batches, run, openNext } = recorder<number>();
    const coalescer = new Coalescer(run, { concurrency: 1, maxBatch: 10, lingerMs: 20 });
    const first = coalescer.submit(1);
    const pair = [coalescer.submit(2), coalescer.submit(3)];
    await openNext();
    await first;
    await openNext();
    await Promise.all(pair);
    const late = coalescer.submit(4);
    await new Promise((r) => setImmediate(r));
    expect(batches, 'one input of the two it waits for').to.have.length(2);
    await new Promise((r) => setTimeout(r, 40));
    expect(batches).to.deep.equal([[1], [2, 3], [4]]);
    await openNext();
    await late;
    await new Promise((r) => setTimeout(r, 40));
    const lone = coalescer.submit(5);
    expect(batches[3], 'nothing to wait for after a run of one').to.deep.equal([5]);
    await openNext();
    expect(await lone).to.equal('done 5');
  });
});
