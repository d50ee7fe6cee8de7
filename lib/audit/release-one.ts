import { canonicalJson } from './canonical-json';
import type { ChainedFields, PersonalFields } from './fields';
import { hmacHex } from './keys';

/*
 * The event format of release 1 (`ec2`), read once more when a store that release wrote is
 * upgraded: its events are checked in it, then rewritten in the current format. Its hash covered
 * the actor among the chained fields, and its personal digest the four other personal fields.
 * It knew neither salts, locales nor contexts: an event that carries one is not of release 1.
 */

/** What a hash of release 1 covered. */
export type ReleaseOneFields = ChainedFields & Pick<PersonalFields, 'actor' | 'personalSalt'> & { context?: string | null };

/** Whether an event can be of release 1 (none of the fields it did not have is set). */
function couldBeReleaseOne(f: ReleaseOneFields): boolean {
  return (f.locale ?? null) === null && (f.context ?? null) === null && (f.personalSalt ?? null) === null;
}

/** Whether `hash` is the hash release 1 gave an event with `fields` after a predecessor whose hash is `previous`. */
export function sealedInReleaseOne(key: Buffer, previous: string, fields: ReleaseOneFields, hash: string): boolean {
  if (!couldBeReleaseOne(fields)) return false;
  const json = canonicalJson({
    action: fields.action, actor: fields.actor, at: fields.at, chain: fields.chain, id: fields.id, personalDigest: fields.personalDigest,
    prevId: fields.prevId, requirement: fields.requirement, seq: fields.seq, source: fields.source, state: fields.state, version: fields.version,
  });
  return hmacHex(key, `ec2\n${previous}\n${json}`) === hash;
}

/** Whether the four personal fields release 1 digested (the actor was chained) are null. */
export function releaseOneRedacted(f: Omit<PersonalFields, 'actor' | 'personalSalt'>): boolean {
  return f.note === null && f.data === null && f.ip === null && f.userAgent === null;
}

/** Whether `digest` is release 1's personal digest of the event's note, data and network details. */
export function releaseOneDigestOk(key: Buffer, f: PersonalFields, digest: string | null): boolean {
  return digest !== null && hmacHex(key, canonicalJson({ data: f.data, ip: f.ip, note: f.note, userAgent: f.userAgent })) === digest;
}
