import { hasNoPersonalFields, NO_PERSONAL_FIELDS, personalDigest } from './chain';
import type { PersonalFields } from './fields';
import { personalFieldsJson } from './fixed-json';

// Personal fields longer than this are hashed every time: they are rarely repeated, and the
// memo's memory stays small however large they are.
const MAX_KEY_LENGTH = 512;

/**
 * Personal digests memoised by the fields' canonical JSON. Most events repeat the same
 * fields (all null, or one import's note), so verification hashes each distinct set once
 * instead of once per event; salted fields (every write with personal fields since salts) are
 * hashed each time. Holds at most `size` entries; it starts over when full.
 */
export class PersonalDigestMemo {
  private readonly memo = new Map<string, string>();
  private none: string | null = null;

  constructor(private readonly key: Buffer, private readonly size = 1024) {}

  /** The same value as `personalDigest(key, fields)`. */
  of(fields: PersonalFields): string {
    if (hasNoPersonalFields(fields)) {
      this.none ??= personalDigest(this.key, NO_PERSONAL_FIELDS);
      return this.none;
    }
    // A salted digest is never repeated: nothing to remember.
    if (fields.personalSalt !== undefined && fields.personalSalt !== null) return personalDigest(this.key, fields);
    const json = personalFieldsJson(fields);
    if (json.length > MAX_KEY_LENGTH) return personalDigest(this.key, fields);
    let digest = this.memo.get(json);
    if (digest === undefined) {
      if (this.memo.size >= this.size) this.memo.clear();
      digest = personalDigest(this.key, fields);
      this.memo.set(json, digest);
    }
    return digest;
  }
}
