import { pseudonymOf, type DerivedKeys } from '../audit/keys';
import { decryptEarlierSubjects, decryptSubjects } from '../audit/subject-keystream';

/**
 * The subject id stored sealed with the chain linked to `pseudonym` (as this release seals it,
 * or an earlier one did), or null when there is none or it does not open: a value is the
 * subject's own only when the keyed pseudonym of what it decrypts to is `pseudonym`, which only
 * the holder of the secret can arrange (a value moved from another row decrypts to noise).
 */
export function storedSubjectId(keys: DerivedKeys, pseudonym: string, sealed: string | null | undefined): string | null {
  if (sealed === null || sealed === undefined) return null;
  const own = (id: string | null | undefined): id is string => typeof id === 'string' && pseudonymOf(keys, id) === pseudonym;
  const [current] = decryptSubjects(keys.subjectSiv, [sealed], [pseudonym]);
  if (own(current)) return current;
  const [earlier] = decryptEarlierSubjects(keys.subject, [sealed]);
  return own(earlier) ? earlier : null;
}
