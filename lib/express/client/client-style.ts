/**
 * The stylesheet served at `<mount>/client.css`, loaded by the client with a `<link>` (so
 * `style-src 'self'` suffices). The three choices share one class: the same size, colour and
 * weight, none more prominent than the others. The dialog's transparent outline is its edge in
 * forced colours (Windows high contrast), which drop its shadow.
 */
export const CLIENT_STYLE = `.ec-banner,.ec-dialog{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;box-sizing:border-box}
.ec-banner *,.ec-dialog *{box-sizing:border-box}
.ec-banner{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;padding:1rem 1.25rem;border-top:3px solid #1d3f8f;box-shadow:0 -4px 16px rgba(0,0,0,.15);max-height:70vh;overflow:auto}
.ec-title{font-size:1.125rem;margin:0 0 .5rem;font-weight:700}
.ec-banner p,.ec-dialog p{margin:0 0 .75rem}
.ec-gpc,.ec-note{font-size:.9375rem;color:#3d3d3d}
.ec-actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:.5rem}
.ec-btn{flex:1 1 10rem;min-height:2.75rem;padding:.5rem 1rem;font:inherit;font-weight:600;color:#fff;background:#1d3f8f;border:2px solid #1d3f8f;border-radius:.375rem;cursor:pointer}
.ec-btn:hover{background:#15306e}
.ec-btn[aria-disabled="true"]{opacity:.75;cursor:progress}
.ec-error{margin:0 0 .75rem;padding:.5rem .75rem;border-left:4px solid #b91c1c;color:#7f1d1d;background:#fef2f2;font-weight:600}
.ec-btn:focus-visible,.ec-close:focus-visible,.ec-switch:focus-visible,.ec-dialog a:focus-visible{outline:3px solid #b45309;outline-offset:2px}
.ec-dialog{width:calc(100% - 2rem);max-width:42rem;max-height:90vh;overflow:auto;padding:1.5rem;border:0;border-radius:.5rem;box-shadow:0 8px 32px rgba(0,0,0,.3)}
.ec-dialog::backdrop{background:rgba(0,0,0,.5)}
.ec-list{list-style:none;margin:0 0 1rem;padding:0}
.ec-item{padding:.75rem 0;border-top:1px solid #d4d4d4}
.ec-info{margin:.5rem 0;font-size:.9375rem}.ec-info dt{font-weight:600}.ec-info dd{margin:0 0 .25rem}
.ec-row{display:flex;align-items:center;justify-content:space-between;gap:1rem}
.ec-label{font-weight:600;margin:0 0 .25rem}
.ec-switch{width:2.75rem;height:1.5rem;flex:none;margin:0;accent-color:#1d3f8f;cursor:pointer}
.ec-dialog a{color:#1d3f8f}
.ec-close{position:absolute;top:.5rem;right:.5rem;width:2.75rem;height:2.75rem;font-size:1.5rem;line-height:1;color:#1a1a1a;background:transparent;border:0;cursor:pointer}
.ec-dialog{position:fixed;outline:2px solid transparent}
.ec-dialog .ec-title{padding-right:2.5rem;overflow-wrap:break-word;hyphens:auto}
.ec-gated{display:none}
.ec-placeholder{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem;padding:1rem;border:2px dashed #6b6b6b;border-radius:.375rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
.ec-placeholder .ec-btn{flex:0 1 auto}
.ec-status{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:480px){.ec-banner{padding:.75rem}.ec-dialog{padding:1rem;width:100%;max-height:100vh}}
`;
