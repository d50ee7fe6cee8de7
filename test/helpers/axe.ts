import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { chromiumPath, describeBrowser } from './databases';

/** axe-core's browser bundle: the dev dependency, else the file named by `AXE_CORE_PATH`. */
function axeFile(): string | null {
  try {
    return createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  } catch {
    const given = process.env.AXE_CORE_PATH;
    return given && existsSync(given) ? given : null;
  }
}

const file = axeFile();
let source: string | undefined;

/**
 * A suite that needs Chromium and axe-core: skipped with a warning when axe-core is missing,
 * an error under CI (like a missing Chromium).
 */
export function describeAccessible(title: string, fn: () => void): void {
  if (file || chromiumPath() === null) { describeBrowser(title, fn); return; }
  if (process.env.CI === 'true') throw new Error('axe-core must be installed under CI (the dev dependency, or AXE_CORE_PATH)');
  console.warn('\n  [skipped: no axe-core, install it or set AXE_CORE_PATH] suites needing it are skipped\n');
  describe.skip(`[skipped: no axe-core] ${title}`, fn);
}

/** The little of a browser window these tests read (the project compiles without the DOM types). */
export interface BrowserWindow {
  document: {
    activeElement: { tagName: string; id: string; textContent: string | null } | null;
    documentElement: { scrollWidth: number; style: { fontSize: string } };
  };
  innerWidth: number;
  scrollY: number;
  getComputedStyle(element: unknown): Record<string, string> & { getPropertyValue(name: string): string };
}

/** One violation, as a line a person can act on. */
interface Violation { id: string; help: string; nodes: Array<{ target: unknown[] }> }

/**
 * The WCAG 2.1 A and AA violations axe-core finds on the page, plus its best practices
 * (landmarks, one main, regions), each as `rule: help (targets)`.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!file) throw new Error('axe-core is not installed');
  // Evaluated through the debugging protocol, which the pages' Content-Security-Policy does not
  // govern: their policies stay exactly as sent.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(source ??= readFileSync(file, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Violation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as BrowserWindow).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
}

/** How far the page scrolls sideways: 0 when nothing is wider than the window. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const window = globalThis as unknown as BrowserWindow;
    return window.document.documentElement.scrollWidth - window.innerWidth;
  });
}
