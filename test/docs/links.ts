// Finds the relative links of a Markdown file that do not resolve: a missing file, or an anchor
// that no heading (GitHub's anchors) nor `<a id|name>` of the target file defines.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** The text of a Markdown file without its fenced code blocks and code spans, where links are not links. */
function prose(markdown: string): string[] {
  const lines = markdown.split('\n');
  let fence: string | null = null;
  return lines.map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
      return '';
    }
    if (marker) {
      fence = marker;
      return '';
    }
    return line.replace(/(`+)(?:(?!\1).)+?\1/g, '');
  });
}

/** GitHub's anchor of a heading's text: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchor(text: string): string {
  const plain = text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links keep their text
    .replace(/<[^>]+>/g, '')
    .replace(/[`*_~]/g, (c) => (c === '_' ? '_' : ''));
  return plain.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown text defines: its headings' (numbered when repeated) and `<a id|name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const inCode = prose(markdown);
  markdown.split('\n').forEach((line, i) => {
    if (inCode[i] === '' && line !== '') return; // inside a fenced block
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = headingAnchor(heading[1]!);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${String(count)}`);
    }
    for (const match of line.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  });
  return anchors;
}

/** The link targets of a Markdown text: inline links, images and reference definitions. */
export function linkTargets(markdown: string): Array<{ line: number; target: string }> {
  const found: Array<{ line: number; target: string }> = [];
  prose(markdown).forEach((line, i) => {
    for (const match of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ line: i + 1, target: match[1]! });
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
    if (definition) found.push({ line: i + 1, target: definition[1]! });
  });
  return found;
}

/**
 * The relative links of `file` (a path under `root`) that do not resolve, as
 * `file:line target (why)`. Links with a scheme (`https:`, `mailto:`) are not followed.
 */
export function brokenLinks(root: string, file: string): string[] {
  const broken: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    let set = anchorCache.get(path);
    if (!set) {
      set = anchorsOf(readFileSync(join(root, path), 'utf8'));
      anchorCache.set(path, set);
    }
    return set;
  };
  for (const { line, target } of linkTargets(readFileSync(join(root, file), 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const where = `${file}:${String(line)} ${target}`;
    const [rawPath = '', anchor] = target.split('#', 2);
    const path = rawPath === '' ? file : normalize(join(dirname(file), decodeURIComponent(rawPath)));
    if (relative(root, join(root, path)).startsWith('..')) {
      broken.push(`${where} (outside the repository)`);
      continue;
    }
    if (!existsSync(join(root, path))) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (anchor !== undefined && anchor !== '') {
      if (statSync(join(root, path)).isDirectory() || !path.endsWith('.md')) {
        broken.push(`${where} (an anchor into a file that is not Markdown)`);
      } else if (!anchors(path).has(decodeURIComponent(anchor))) {
        broken.push(`${where} (no heading or anchor "${anchor}" in ${path})`);
      }
    }
  }
  return broken;
}
