import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

const TABLE = 'example_sessions';

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * The signed-in sessions the server knows about. A session cookie names one of them: signing
 * out deletes it, so a copied cookie stops working at once. Only a hash of each id is stored.
 */
export class SessionStore {
  constructor(private readonly knex: Knex) {}

  async init(): Promise<void> {
    if (await this.knex.schema.hasTable(TABLE)) return;
    await this.knex.schema.createTable(TABLE, (t) => {
      t.string('id_hash', 64).primary();
      t.string('user_id', 36).notNullable().index();
      t.bigInteger('expires_at').notNullable();
    });
  }

  /** Starts a session of `userId` ending at `expiresAt` (epoch ms); resolves to its id. */
  async start(userId: string, expiresAt: number, now: number): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.knex(TABLE).where('expires_at', '<=', now).delete();
    await this.knex(TABLE).insert({ id_hash: hashOf(id), user_id: userId, expires_at: expiresAt });
    return id;
  }

  /** Whether session `id` of `userId` was started, has not ended and has not expired. */
  async isLive(id: string, userId: string, now: number): Promise<boolean> {
    const row: unknown = await this.knex(TABLE).where({ id_hash: hashOf(id), user_id: userId }).andWhere('expires_at', '>', now).first('id_hash');
    return row !== undefined;
  }

  /** Ends session `id` (sign-out). */
  async end(id: string): Promise<void> {
    await this.knex(TABLE).where({ id_hash: hashOf(id) }).delete();
  }
}
