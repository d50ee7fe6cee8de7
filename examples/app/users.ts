import { randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Knex } from 'knex';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;
const TABLE = 'example_users';

/** A person with an account in the example app. Their `id` is the consent subject. */
export interface User {
  id: string;
  email: string;
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `${salt.toString('base64url')}.${hash.toString('base64url')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [salt, hash] = stored.split('.');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** The example's own accounts table, next to the consent tables in the same database. */
export class Users {
  constructor(private readonly knex: Knex) {}

  async init(): Promise<void> {
    if (await this.knex.schema.hasTable(TABLE)) return;
    await this.knex.schema.createTable(TABLE, (t) => {
      t.string('id', 36).primary();
      t.string('email', 254).notNullable().unique();
      t.string('password_hash', 200).notNullable();
      t.string('created_at', 30).notNullable();
    });
  }

  /** Creates an account; resolves to null when the email is already taken. */
  async create(email: string, password: string): Promise<User | null> {
    const user = { id: randomUUID(), email: email.toLowerCase() };
    const taken: unknown = await this.knex(TABLE).where({ email: user.email }).first();
    if (taken) return null;
    const row = { ...user, password_hash: await hashPassword(password), created_at: new Date().toISOString() };
    await this.knex(TABLE).insert(row);
    return user;
  }

  async find(id: string): Promise<User | null> {
    const row = (await this.knex(TABLE).where({ id }).first()) as { id: string; email: string } | undefined;
    return row ? { id: row.id, email: row.email } : null;
  }

  /** The account with this email address (in any case), or null. */
  async findByEmail(email: string): Promise<User | null> {
    const row = (await this.knex(TABLE).where({ email: email.toLowerCase() }).first()) as { id: string; email: string } | undefined;
    return row ? { id: row.id, email: row.email } : null;
  }

  /** The account with this email and password, or null. */
  async authenticate(email: string, password: string): Promise<User | null> {
    const row = (await this.knex(TABLE).where({ email: email.toLowerCase() }).first()) as
      | { id: string; email: string; password_hash: string }
      | undefined;
    if (!row || !(await passwordMatches(password, row.password_hash))) return null;
    return { id: row.id, email: row.email };
  }
}
