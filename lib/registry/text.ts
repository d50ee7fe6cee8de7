import { canonicalJson } from '../audit/canonical-json';
import { sha256Hex } from '../audit/keys';
import type { StoredRequirementVersion } from '../tracker/records';
import type { Requirement } from '../types';

/** The text of a version: what the person was shown. Locked once a decision references it. */
export function requirementText(requirement: Requirement) {
  return {
    title: requirement.title,
    description: requirement.description,
    url: requirement.url,
    lawfulBasis: requirement.lawfulBasis,
  };
}

/** SHA-256 of the canonical JSON of the text (hex): what receipts cite as `textHash`. */
export function textHash(requirement: Requirement): string {
  return sha256Hex(canonicalJson(requirementText(requirement)));
}

/** The version as stored, not yet sealed (`mac` empty: the caller seals it with the secret). */
export function toStoredVersion(requirement: Requirement, now: number): StoredRequirementVersion {
  return { id: requirement.id, version: requirement.version, ...requirementText(requirement), textHash: textHash(requirement), createdAt: now, mac: '' };
}
