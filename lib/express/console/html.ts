import type { Response } from 'express';
import { escapeHtml } from '../escape-html';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}
th{background:#f6f8fa}td.n{text-align:right}nav a{margin-right:1rem}.ok{color:#1a7f37}.bad{color:#cf222e}
.legend span{margin-right:1rem}details{margin:.25rem 0}`;

/**
 * Sends a complete page: no scripts at all, inline styles only (CSP), never cached, and never
 * framed by another origin.
 */
export function sendPage(res: Response, title: string, body: string): void {
  res
    .status(200)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    })
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · express-consent</title><style>${STYLE}</style></head>
<body><nav><a href="./">Overview</a><a href="./subject">Subject lookup</a></nav><h1>${escapeHtml(title)}</h1>
${body}</body></html>`);
}
