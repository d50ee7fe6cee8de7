import type { Request, Response } from 'express';
import { renderPage, type PageContent } from '../pages/document';
import type { ResolvedPages } from '../pages/options';

/**
 * Sends a page the library renders for a person: never cached, never framed by another site,
 * never sending its address on, under the page's own Content-Security-Policy.
 */
export function sendPage(req: Request, res: Response, pages: ResolvedPages, status: number, content: PageContent): void {
  const page = renderPage(pages, req, content);
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': page.csp,
      'X-Content-Type-Options': 'nosniff',
      // As the policy's frame-ancestors 'none' says, for browsers that know only this header.
      'X-Frame-Options': 'DENY',
      // Confirmation tokens and subject ids are in these pages' addresses.
      'Referrer-Policy': 'no-referrer',
    })
    .send(page.html);
}
