import { storedTextHash, textOfVersion } from '../registry/text';
import type { StoredEvent, StoredRequirementVersion } from '../tracker/records';
import type { Action, LocalizedText } from '../types';

/** A text as a person was shown it: one version of one requirement, in one locale, every field. */
export interface ShownText extends LocalizedText {
  requirement: string;
  version: number;
  locale: string;
  /** The hash of the version's whole text (every locale): what receipts cite. */
  textHash: string;
}

// The actions a person took on a text they were shown.
const DECISIONS: ReadonlySet<Action> = new Set(['grant', 'deny', 'withdraw', 'request', 'confirm']);

/**
 * Collects, from a subject's events as they pass, which (requirement, version, locale) the
 * person decided on; an event without a locale (recorded before locales, or a confirmation)
 * stands for the version's default locale, unless another event of that version names one.
 */
export class ShownTexts {
  private readonly seen = new Map<string, { requirement: string; version: number; locales: Set<string> }>();

  add(event: StoredEvent): void {
    if (!DECISIONS.has(event.action)) return;
    const key = `${event.requirement}\n${String(event.version)}`;
    let entry = this.seen.get(key);
    if (entry === undefined) {
      entry = { requirement: event.requirement, version: event.version, locales: new Set() };
      this.seen.set(key, entry);
    }
    if (event.locale) entry.locales.add(event.locale);
  }

  /** The requirement ids seen, for reading their stored versions. */
  ids(): string[] {
    return [...new Set([...this.seen.values()].map((e) => e.requirement))];
  }

  /**
   * The texts, from the stored versions (already checked against their seal), oldest decision
   * first; a version whose text no longer matches its hash is left out rather than shown as
   * what the person saw.
   */
  texts(versions: readonly StoredRequirementVersion[]): ShownText[] {
    const out: ShownText[] = [];
    for (const { requirement, version, locales } of this.seen.values()) {
      const stored = versions.find((v) => v.id === requirement && v.version === version);
      if (!stored || storedTextHash(stored) !== stored.textHash) continue;
      const text = textOfVersion(stored);
      const shown = locales.size > 0 ? [...locales] : [text.defaultLocale];
      for (const locale of shown) {
        const localized = text.texts[locale] ?? text.texts[text.defaultLocale];
        if (localized) out.push({ requirement, version, locale, textHash: stored.textHash, ...localized });
      }
    }
    return out;
  }
}
