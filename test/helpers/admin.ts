import type { Request } from 'express';

/** Admin requests in tests: `x-admin: yes` authorizes. */
export const ADMIN = { 'x-admin': 'yes' };

/** `x-admin`: `yes` or `later` → true; other values exercise what must not count as authorization. */
export function headerAdmin(req: Request): boolean | Promise<boolean> {
  const value = req.get('x-admin');
  if (value === 'throw') throw new Error('directory down');
  if (value === 'reject') return Promise.reject(new Error('directory down'));
  if (value === 'string') return 'true' as unknown as boolean;
  if (value === 'one') return 1 as unknown as boolean;
  if (value === 'later') return Promise.resolve(true);
  // Throws that cannot be printed, and verdicts that throw as they are read.
  if (value === 'throw-bare') throw Object.create(null) as Error;
  if (value === 'reject-bare') return Promise.reject(Object.create(null) as Error);
  if (value === 'getter') return { get actor(): string { throw new Error('session expired'); } } as unknown as boolean;
  if (value === 'revoked') {
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    return revocable.proxy as unknown as boolean;
  }
  return value === 'yes';
}
