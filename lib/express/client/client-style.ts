import { colourProperties, type Palette } from '../../pages/colours';

/**
 * The client's colours, each as `[light, dark]`. Text pairs keep 4.5:1 or more against their
 * background and the focus ring and the placeholder's edge 3:1 or more, in both schemes.
 */
export const CLIENT_PALETTE = {
  fg: ['#1a1a1a', '#ececec'],
  bg: ['#fff', '#1f1f1f'],
  muted: ['#3d3d3d', '#c4c4c4'],
  accent: ['#1d3f8f', '#9ab8f0'],
  'on-accent': ['#fff', '#0f1f47'],
  hover: ['#15306e', '#c2d4f7'],
  focus: ['#b45309', '#f5a524'],
  line: ['#d4d4d4', '#4d4d4d'],
  edge: ['#6b6b6b', '#949494'],
  'dialog-edge': ['transparent', '#6b6b6b'],
  'error-fg': ['#7f1d1d', '#fecaca'],
  'error-bg': ['#fef2f2', '#3a1717'],
  'error-line': ['#b91c1c', '#f87171'],
} as const satisfies Palette;

const ROOTS = '.ec-banner,.ec-dialog,.ec-placeholder';

/**
 * The stylesheet served at `<mount>/client.css`, loaded by the client with a `<link>` (so
 * `style-src 'self'` suffices). The three choices share one class: the same size, colour and
 * weight, none more prominent than the others. The dialog's transparent outline is its edge in
 * forced colours (Windows high contrast), which drop its shadow.
 *
 * Sizes: the banner, dialog and placeholder take the visitor's default font size (`medium`) and
 * everything inside is in `em` of it, so a larger default in the browser enlarges the whole
 * client while a host's small root size (`html{font-size:62.5%}`) does not shrink it. Colours:
 * `light-dark()` picks by the colour scheme inherited from the host page, so a site that
 * declares `color-scheme: light dark` gets a dark client for visitors who prefer dark and any
 * other stays light; a browser without `light-dark()` keeps the light colours.
 *
 * Narrow screens and large text: a title and its switch share a line when the whole title fits
 * beside the switch, else the switch goes under it, and only a word longer than the whole line is
 * broken. A banner taller than it may be scrolls its words under its buttons, which stay in
 * sight (with a failed save's message), on a screen at least 28 of the reader's lines of text
 * tall; on a shorter one the whole banner scrolls, for the buttons would leave no room to read.
 */
export const CLIENT_STYLE = `${colourProperties(ROOTS, CLIENT_PALETTE)}
${ROOTS}{font:medium/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ec-fg);background:var(--ec-bg)}
.ec-banner,.ec-dialog{box-sizing:border-box}
.ec-banner *,.ec-dialog *{box-sizing:border-box}
.ec-banner{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;padding:1em 1.25em;overflow-wrap:break-word;border-top:3px solid var(--ec-accent);box-shadow:0 -4px 16px rgba(0,0,0,.15);max-height:70vh;overflow:auto}
.ec-title{font-size:1.125em;margin:0 0 .45em;font-weight:700;hyphens:auto}
.ec-banner p,.ec-dialog p{margin:0 0 .75em}
.ec-gpc,.ec-note{font-size:.9375em;color:var(--ec-muted)}
.ec-actions{display:flex;flex-wrap:wrap;gap:.75em;margin-top:.5em}
@media (min-height:28em){.ec-banner .ec-actions{position:sticky;bottom:-1em;margin-bottom:-1em;padding:.5em 0 1em;background:var(--ec-bg)}}
.ec-actions .ec-error{flex-basis:100%;margin:0}
.ec-btn{flex:1 1 10em;min-height:2.75em;padding:.5em 1em;font:inherit;font-weight:600;color:var(--ec-on-accent);background:var(--ec-accent);border:2px solid var(--ec-accent);border-radius:.375em;cursor:pointer}
.ec-btn:hover{background:var(--ec-hover)}
.ec-btn[aria-disabled="true"]{opacity:.75;cursor:progress}
.ec-error{margin:0 0 .75em;padding:.5em .75em;border-left:4px solid var(--ec-error-line);color:var(--ec-error-fg);background:var(--ec-error-bg);font-weight:600}
.ec-btn:focus-visible,.ec-close:focus-visible,.ec-switch:focus-visible,.ec-dialog a:focus-visible{outline:3px solid var(--ec-focus);outline-offset:2px}
.ec-dialog{width:calc(100% - 2em);max-width:42em;max-height:90vh;overflow:auto;overflow-wrap:anywhere;padding:1.5em;border:0;border-radius:.5em;box-shadow:0 8px 32px rgba(0,0,0,.3)}
.ec-dialog::backdrop{background:rgba(0,0,0,.5)}
.ec-list{list-style:none;margin:0 0 1em;padding:0}
.ec-item{padding:.75em 0;border-top:1px solid var(--ec-line)}
.ec-info{margin:.5em 0;font-size:.9375em}.ec-info dt{font-weight:600}.ec-info dd{margin:0 0 .25em}
.ec-row{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.25em 1em}
.ec-label,.ec-dialog .ec-label{flex:1 1 auto;font-weight:600;margin:0 0 .25em;min-width:0;overflow-wrap:break-word}
.ec-switch{font-size:inherit;width:2.75em;height:1.5em;flex:none;margin:0;accent-color:var(--ec-accent);cursor:pointer}
.ec-dialog a{color:var(--ec-accent)}
.ec-close{position:absolute;top:.34em;right:.34em;width:1.84em;height:1.84em;font-size:1.5em;line-height:1;color:var(--ec-fg);background:transparent;border:0;cursor:pointer}
.ec-dialog{position:fixed;outline:2px solid var(--ec-dialog-edge)}
.ec-dialog .ec-title{padding-right:2.25em;overflow-wrap:break-word;hyphens:auto}
.ec-gated{display:none}
.ec-placeholder{display:flex;flex-wrap:wrap;align-items:center;gap:.75em;padding:1em;border:2px dashed var(--ec-edge);border-radius:.375em;overflow-wrap:anywhere}
.ec-placeholder span{min-width:0}
.ec-placeholder .ec-btn{flex:0 1 auto}
.ec-status{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:30em){.ec-banner{padding:.75em}.ec-dialog{padding:1em;width:100%;max-height:100vh}}
`;
