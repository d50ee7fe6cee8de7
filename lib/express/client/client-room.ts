/**
 * The part of the browser client (spliced into `CLIENT_SCRIPT`, sharing its scope) that places
 * the banner: where it goes in the page's order, and the room kept for it at the page's end
 * while it shows, so that nothing the page holds stays hidden underneath it.
 */
export const CLIENT_ROOM = String.raw`  // While the banner shows, the page keeps room for it at its end, and scrolling to a focused
  // control keeps that control above it (nothing the page holds stays hidden underneath).
  var room = null, watch = null, watched = null;
  function reserve() {
    var html = d.documentElement, body = d.body;
    // Followed as its size changes (a narrower window, a larger font), one banner at a time.
    if (watched !== banner) {
      if (watch) watch.disconnect();
      watch = banner && window.ResizeObserver ? new ResizeObserver(reserve) : null;
      if (watch) watch.observe(banner);
      watched = banner;
    }
    if (!banner) {
      if (room) { body.style.paddingBottom = room.padding; html.style.scrollPaddingBottom = room.scroll; room = null; }
      return;
    }
    if (!room) room = { padding: body.style.paddingBottom, scroll: html.style.scrollPaddingBottom, base: parseFloat(getComputedStyle(body).paddingBottom) || 0 };
    var height = banner.offsetHeight;
    body.style.paddingBottom = room.base + height + 'px';
    html.style.scrollPaddingBottom = height + 'px';
  }
  // Early in the page, so that it is met soon; after the page's skip link when that starts the
  // page in an element of its own, so that the link stays the first stop. A skip link inside the
  // page's wrapper (with everything else) leaves the banner first: after the wrapper it would come last.
  var FOCUSABLE = 'a[href],button:not([disabled]),input:not([type="hidden"]):not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';
  function bannerPlace() {
    var first = d.body.querySelector(FOCUSABLE);
    if (!first || first.tagName !== 'A' || !/^#./.test(first.getAttribute('href') || '')) return d.body.firstChild;
    var top = first;
    while (top.parentNode !== d.body) top = top.parentNode;
    return top.querySelectorAll(FOCUSABLE).length === 1 ? top.nextSibling : d.body.firstChild;
  }
`;
