/**
 * The check page's icon (GET /check/icon.svg), named by the page's `<link rel="icon">`: without one,
 * Firefox asks for /favicon.ico, and the page's CSP blocks that request with a console error.
 */
export const CHECK_ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#0969da"/><path d="M4 8.5l2.5 2.5L12 5.5" stroke="#fff" stroke-width="2" fill="none"/></svg>';
