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
  return value === 'yes';
}
