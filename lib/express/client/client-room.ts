/**
 * The part of the browser client (spliced into `CLIENT_SCRIPT`, sharing its scope) that keeps
 * room for the banner at the page's end while it shows, so that nothing the page holds stays
 * hidden underneath it.
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
`;
