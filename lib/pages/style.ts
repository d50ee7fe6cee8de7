import { createHash } from 'node:crypto';
import { colourProperties, type Palette } from './colours';

/**
 * The pages' colours, each as `[light, dark]`: text 4.5:1 or more against the backgrounds it
 * sits on, the focus ring and the chart's lines 3:1 or more, in both schemes.
 */
export const PAGE_PALETTE = {
  fg: ['#1f2328', '#e6edf3'],
  page: ['#f6f8fa', '#0d1117'],
  bg: ['#fff', '#161b22'],
  line: ['#d0d7de', '#30363d'],
  accent: ['#0b57d0', '#79b8ff'],
  'on-accent': ['#fff', '#0d1117'],
  field: ['#57606a', '#8b949e'],
  muted: ['#57606a', '#9da7b3'],
  head: ['#f6f8fa', '#1c2128'],
  focus: ['#b45309', '#f5a524'],
  ok: ['#146c2e', '#3fb950'],
  'ok-bg': ['#edf7ef', '#12261a'],
  bad: ['#b3261e', '#ff7b72'],
  'bad-bg': ['#fdeeee', '#2d1214'],
} as const satisfies Palette;

/**
 * The document around the content in the default layout: page colours, header, main. Its
 * colours follow the scheme the document declares (see `renderPage`).
 */
export const DOCUMENT_STYLE = `
${colourProperties(':root', PAGE_PALETTE)}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ec-fg);background:var(--ec-page)}
.ec-header{background:var(--ec-bg);border-bottom:1px solid var(--ec-line)}
.ec-header p{max-width:60rem;margin:0 auto;padding:.75rem 1rem}
.ec-header a{color:var(--ec-accent)}
.ec-main{display:block;max-width:60rem;margin:1.5rem auto;padding:1.25rem 1rem 2rem;background:var(--ec-bg);border:1px solid var(--ec-line);border-radius:8px}
.ec-narrow .ec-header p,.ec-narrow .ec-main{max-width:38rem}
:focus-visible{outline:3px solid var(--ec-focus);outline-offset:2px}
@media (max-width:40rem){.ec-main{margin:0;border:0;border-radius:0}}
`.trim();

/**
 * The library's content, scoped to `.ec-content` so that in a host layout it leaves the rest of
 * the page alone: system fonts, readable at any width, no external resource. Tables marked
 * `ec-stack` turn into one block per row below 40rem, under their caption, each cell labelled by
 * its `data-label` (a row's header heads its block), so no page scrolls sideways on a phone; the
 * label is drawn for the eye only (empty alternative text), as the table's headers still name
 * each cell for assistive technology (declared twice: a browser without alternative text keeps
 * the first). Its
 * colours follow the colour scheme in force: the default document's, or the host layout's (light
 * unless the host declares `color-scheme`).
 */
export const CONTENT_STYLE = `
${colourProperties('.ec-content', PAGE_PALETTE)}
.ec-content{overflow-wrap:break-word}
.ec-content h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0 1rem}
.ec-content h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
.ec-content a{color:var(--ec-accent)}
.ec-content code{font-size:.9em;overflow-wrap:anywhere}
.ec-content button{font:inherit;font-weight:600;padding:.55rem 1.1rem;border:2px solid var(--ec-accent);border-radius:6px;background:var(--ec-accent);color:var(--ec-on-accent);cursor:pointer}
.ec-content input{font:inherit;padding:.4rem .5rem;border:1px solid var(--ec-field);border-radius:4px;max-width:100%}
.ec-content label{font-weight:600}
.ec-nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:0 0 1rem;padding:0}
.ec-note{color:var(--ec-muted)}
.ec-info dt{font-weight:600}.ec-info dd{margin:0 0 .5rem}
.ec-status{border-left:4px solid var(--ec-ok);background:var(--ec-ok-bg);padding:.5rem 1rem}
.ec-alert,.ec-content .notice{border-left:4px solid var(--ec-bad);background:var(--ec-bad-bg);padding:.5rem 1rem}
.ec-ok{color:var(--ec-ok)}.ec-bad{color:var(--ec-bad)}
.ec-plot{display:grid;grid-template-columns:auto minmax(0,720px);justify-content:start;padding:.75rem 0 .5rem}
.ec-y{grid-area:1/1;position:relative;padding-right:.4em;text-align:right}
.ec-y span,.ec-x span{font-size:.875rem;line-height:1.25;white-space:nowrap;font-variant-numeric:tabular-nums}
.ec-y span{display:block;transform:translateY(-50%)}
.ec-y-max{position:relative;top:5%}.ec-y-zero{position:absolute;right:.4em;top:95%}
.ec-area{grid-area:1/2;min-width:0}
.ec-area svg{display:block;width:100%;height:auto}
.ec-x{grid-area:2/2;display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 1em;padding:.25rem 1.25% 0}.ec-x-last{margin-left:auto}
.ec-legend span{margin-right:1rem}
.ec-content table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem;font-size:.9375rem}
.ec-content caption{text-align:left;font-weight:600;padding:.25rem 0}
.ec-content th,.ec-content td{border-bottom:1px solid var(--ec-line);padding:.35rem .5rem;text-align:left;vertical-align:top}
.ec-content td.ec-free{overflow-wrap:anywhere}
.ec-wide{overflow-x:auto}
.ec-wide:focus-visible{outline:3px solid var(--ec-accent);outline-offset:2px}
.ec-content th{background:var(--ec-head);overflow-wrap:normal}
.ec-content .ec-n{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:40rem){
table.ec-stack,table.ec-stack tbody,table.ec-stack tr,table.ec-stack td{display:block;width:100%}
table.ec-stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.ec-stack caption{display:block}
.ec-content table.ec-stack tbody th{display:block;border:0;background:none;padding:.15rem 0}
table.ec-stack tr{border:1px solid var(--ec-line);border-radius:6px;margin:0 0 .75rem;padding:.25rem .5rem}
.ec-content table.ec-stack td{border:0;padding:.15rem 0;text-align:left}
table.ec-stack td::before{content:attr(data-label) ": ";content:attr(data-label) ": " / "";font-weight:600}
}
`.trim();

const hash = (css: string) => `'sha256-${createHash('sha256').update(css).digest('base64')}'`;

/** The CSP sources that allow exactly these two styles as inline `<style>` elements. */
export const STYLE_SOURCES = `${hash(DOCUMENT_STYLE)} ${hash(CONTENT_STYLE)}`;
