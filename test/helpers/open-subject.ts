import { createCipheriv } from 'node:crypto';
import { firstCounter } from '../../lib/audit/subject-seal';

/**
 * The reference opening of a `sealSubject` value, through Node's own AES-256-CTR, one value at
 * a time: the subject id it holds when it was sealed for `pseudonym` with `key`, null otherwise
 * (altered, moved, or sealed with another key). The library opens whole pages instead
 * (`decryptSubjects`); tests hold it to this. `pseudonymOf` is the keyed pseudonym of an id.
 */
export function openSubject(key: Buffer, sealed: string, pseudonym: string, pseudonymOf: (id: string) => string): string | null {
  const counter = firstCounter(pseudonym);
  if (counter === null || sealed.length === 0 || sealed.length % 2 !== 0) return null;
  const bytes = Buffer.from(sealed, 'hex');
  if (bytes.length * 2 !== sealed.length) return null;
  const decipher = createCipheriv('aes-256-ctr', key, counter);
  const id = Buffer.concat([decipher.update(bytes), decipher.final()]).toString('utf8');
  return pseudonymOf(id) === pseudonym ? id : null;
}
