import { expect } from 'chai';
import { pagesAhead } from '../../lib/core/page-cursor';

/** A keyset source of `total` numbers read in pages of `limit`, logging where each read starts. */
function source(total: number, limit: number, failAfter?: number) {
  const reads: Array<number | undefined> = [];
  const read = (after: number | undefined): Promise<number[]> => {
    reads.push(after);
    const from = after === undefined ? 0 : after + 1;
    if (failAfter !== undefined && from > failAfter) return Promise.reject(new Error('store down'));
    return Promise.resolve(Array.from({ length: Math.max(0, Math.min(limit, total - from)) }, (_, i) => from + i));
  };
  return { reads, pages: (depth?: number) => pagesAhead(read, (last: number) => last, limit, depth) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('pagesAhead (keyset pages read ahead of the caller)', () => {
  it('yields every item once, in order, for any depth, with or without a short last page', async () => {
    for (const [total, depth] of [[0, 1], [9, 1], [10, 2], [11, 3], [25, 2]] as const) {
      const got: number[] = [];
      for await (const page of source(total, 5).pages(depth)) got.push(...page);
      expect(got).to.deep.equal(Array.from({ length: total }, (_, i) => i));
    }
  });

  it('keeps up to `depth` pages read before the caller takes them, and no more', async () => {
    const one = source(100, 5);
    const first = one.pages(1);
    await first.next();
    await settle();
    // One page ahead of the page the caller holds.
    expect(one.reads).to.deep.equal([undefined, 4]);
    const two = source(100, 5);
    const second = two.pages(2);
    await second.next();
    await settle();
    expect(two.reads).to.deep.equal([undefined, 4, 9]);
    await second.next();
    await settle();
    expect(two.reads).to.deep.equal([undefined, 4, 9, 14]);
    await first.return(undefined);
    await second.return(undefined);
  });

  it('sends no read once the caller has stopped, even when a read that was out comes back', async () => {
    let release: () => void = () => undefined;
    const reads: Array<number | undefined> = [];
    // The second read waits until released: the caller stops while it is out.
    const read = (after: number | undefined): Promise<number[]> => {
      reads.push(after);
      const page = Array.from({ length: 5 }, (_, i) => (after ?? -1) + 1 + i);
      return after === undefined ? Promise.resolve(page) : new Promise((resolve) => { release = () => { resolve(page); }; });
    };
    const pages = pagesAhead(read, (last: number) => last, 5, 2);
    await pages.next();
    await settle();
    expect(reads).to.deep.equal([undefined, 4]);
    await pages.return(undefined);
    release();
    await settle();
    await settle();
    expect(reads).to.deep.equal([undefined, 4], 'no read after the caller stopped');
  });

  it('fails the stream at the failed read, after the pages read before it', async () => {
    const got: number[] = [];
    const failing = source(100, 5, 12).pages(3);
    let failure: unknown;
    try {
      for await (const page of failing) got.push(...page);
    } catch (error) {
      failure = error;
    }
    expect(got).to.deep.equal(Array.from({ length: 15 }, (_, i) => i));
    expect((failure as Error).message).to.equal('store down');
  });
});
