// The library's own escaping template: one helper for every page, the example's and the library's.
export { html, SafeHtml, trustedHtml as trusted } from '../../lib/index';
