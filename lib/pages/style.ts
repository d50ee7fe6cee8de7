import { createHash } from 'node:crypto';

/**
 * The library's own style: system fonts, readable at any width, no external resource. Tables
 * marked `ec-stack` turn into one block per row below 40rem, each cell labelled by its
 * `data-label`, so no page scrolls sideways on a phone.
 */
export const PAGE_STYLE = `
:root{color-scheme:light;--ec-ink:#1f2328;--ec-muted:#57606a;--ec-line:#d0d7de;--ec-accent:#0b57d0;--ec-good:#146c2e;--ec-bad:#b3261e;--ec-soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ec-ink);background:var(--ec-soft)}
.ec-header{background:#fff;border-bottom:1px solid var(--ec-line)}
.ec-header p{max-width:60rem;margin:0 auto;padding:.75rem 1rem}
.ec-main{display:block;max-width:60rem;margin:1.5rem auto;padding:1.25rem 1rem 2rem;background:#fff;border:1px solid var(--ec-line);border-radius:8px}
.ec-narrow{max-width:38rem}
h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
a{color:var(--ec-accent)}
:focus-visible{outline:3px solid #e8a600;outline-offset:2px}
code{font-size:.9em;overflow-wrap:anywhere}
button,.ec-button{display:inline-block;font:inherit;font-weight:600;padding:.55rem 1.1rem;border:2px solid var(--ec-accent);border-radius:6px;background:var(--ec-accent);color:#fff;cursor:pointer;text-decoration:none}
input{font:inherit;padding:.4rem .5rem;border:1px solid var(--ec-muted);border-radius:4px;max-width:100%}
label{font-weight:600}
.ec-nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:0 0 1rem;padding:0}
.ec-note{color:var(--ec-muted)}
.ec-status{border-left:4px solid var(--ec-good);background:#edf7ef;padding:.5rem 1rem}
.ec-alert{border-left:4px solid var(--ec-bad);background:#fdeeee;padding:.5rem 1rem}
.ec-ok{color:var(--ec-good)}.ec-bad{color:var(--ec-bad)}
.ec-chart svg{max-width:100%;height:auto}
.ec-legend span{margin-right:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem;font-size:.9375rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid var(--ec-line);padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--ec-soft)}
td.ec-n{text-align:right;font-variant-numeric:tabular-nums}
details{margin:.1rem 0}
@media (max-width:40rem){
.ec-main{margin:0;border:0;border-radius:0}
table.ec-stack,table.ec-stack tbody,table.ec-stack tr,table.ec-stack td{display:block;width:100%}
table.ec-stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.ec-stack tr{border:1px solid var(--ec-line);border-radius:6px;margin:0 0 .75rem;padding:.25rem .5rem}
table.ec-stack td{border:0;padding:.15rem 0;text-align:left}
table.ec-stack td::before{content:attr(data-label) ": ";font-weight:600}
}
`.trim();

/** The CSP source that allows exactly `PAGE_STYLE` as an inline `<style>`. */
export const PAGE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`;
