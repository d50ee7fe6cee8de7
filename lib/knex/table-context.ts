import type { Knex } from 'knex';
import type { PageReader } from './page-reader';

/** What the chain helpers need from a Knex tracker. */
export interface TableContext {
  readonly knex: Knex;
  table(name: string): string;
  /**
   * SQLite: the highest event id this process has allocated, reserved or seen. Ids reserved
   * ahead of their transaction (`reserveIds`) stay above every other allocation. `known` once
   * the stored mark was read into it (`knowIdMark`).
   */
  readonly idMark?: { high: number; known?: boolean };
  /** SQLite files: the connections of scans of the whole store (never a transaction's). */
  readonly pages?: PageReader;
}
