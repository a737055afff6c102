/**
 * GET /check: the connectivity-check page (src/check), with its script at /check/app.js, its
 * stylesheet at /check/app.css and its icon at /check/icon.svg. All three are static and built into assets.generated.ts; the page
 * never embeds a credential, fetching its own from /api/turn/credentials in the browser.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { CHECK_CSS, CHECK_CSS_SHA256, CHECK_HTML, CHECK_SCRIPT, CHECK_SCRIPT_SHA256 } from "../check/assets.generated";
import { CHECK_ICON_SVG } from "../check/icon";
import { CHECK_PAGE_CSP } from "../http/headers";

/** Script and stylesheet: revalidated on every load (cheap, by ETag), so they never lag the page. */
function asset(body: string, contentType: string, sha256: string) {
  const etag = `"${sha256}"`;
  return (c: Context<AppEnv>) => {
    const headers = { "Content-Type": contentType, "Cache-Control": "no-cache", ETag: etag };
    const wanted = c.req.header("If-None-Match");
    if (wanted?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) return c.body(null, 304, headers);
    return c.body(body, 200, headers);
  };
}

/** GET /check: the page. */
export function checkPage(c: Context<AppEnv>): Response {
  return c.html(CHECK_HTML, 200, {
    "Content-Security-Policy": CHECK_PAGE_CSP,
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
  });
}

/** GET /check/app.js, /check/app.css and /check/icon.svg. */
export const checkScript = asset(CHECK_SCRIPT, "text/javascript; charset=utf-8", CHECK_SCRIPT_SHA256);
export const checkStyle = asset(CHECK_CSS, "text/css; charset=utf-8", CHECK_CSS_SHA256);
export const checkIcon = asset(CHECK_ICON_SVG, "image/svg+xml", "icon-v1");
