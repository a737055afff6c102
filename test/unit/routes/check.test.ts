/**
 * GET /check, /check/app.js and /check/app.css: a static page under a strict CSP, with no inline
 * script or style and no credential in it, and the bundled script and stylesheet it loads.
 */
import { describe, expect, it } from "vitest";
import { CHECK_CSS, CHECK_SCRIPT, CHECK_SCRIPT_SHA256 } from "../../../src/check/assets.generated";
import { call } from "../../support/worker-fetch";
import { TEST_SECRETS } from "../../support/test-env";
import { directives, STRICT_CSP } from "../../support/csp";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}

describe("GET /check", () => {
  it("answers 200 HTML under the strict CSP, never stored", async () => {
    const response = await call("/check");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html; charset=utf-8$/i);
    expect(directives(response.headers.get("Content-Security-Policy"))).toEqual(STRICT_CSP);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("loads its script and stylesheet from this origin, with nothing inline", async () => {
    const html = await (await call("/check")).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.map(([, attributes]) => attributes!.trim())).toEqual(['src="/check/app.js" defer']);
    expect(scripts.every(([, , body]) => body === "")).toBe(true);
    expect(html).toContain('<link rel="stylesheet" href="/check/app.css" />');
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it("holds no credential or secret, whoever asks", async () => {
    const html = await (await call("/check", { headers: { Authorization: "Bearer x.y.z" } })).text();
    for (const secret of Object.values(TEST_SECRETS)) expect(html).not.toContain(secret);
    // No server URL, username or credential field: those come to the browser from the API only.
    expect(html).not.toMatch(/\bturns?:|\busername\b|"credential"/i);
  });

  it("is served even when the configuration is broken, so the page can show the error", async () => {
    const response = await call("/check", {}, { TURN_SECRET: undefined });
    expect(response.status).toBe(200);
  });

  it("answers other methods with 405 and Allow: GET", async () => {
    for (const path of ["/check", "/check/app.js", "/check/app.css", "/check/icon.svg"]) {
      const response = await call(path, { method: "POST" });
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe("GET");
    }
  });

  it("names its icon, so that Firefox does not ask for /favicon.ico (which the CSP would block)", async () => {
    const html = await (await call("/check")).text();
    expect(html).toContain('<link rel="icon" href="/check/icon.svg" type="image/svg+xml" />');
    const icon = await call("/check/icon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("Content-Type")).toBe("image/svg+xml");
    expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^<]*>.*<\/svg>$/);
  });

  it("answers unknown paths under /check with 404", async () => {
    expect((await call("/check/other.js")).status).toBe(404);
  });
});

describe("GET /check/app.js and /check/app.css", () => {
  it("serves the bundled script as JavaScript, with its sha256 as ETag", async () => {
    const response = await call("/check/app.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const body = await response.text();
    expect(body).toBe(CHECK_SCRIPT);
    expect(body).toContain("/api/turn/credentials");
    expect(await sha256(body)).toBe(CHECK_SCRIPT_SHA256);
    expect(response.headers.get("ETag")).toBe(`"${CHECK_SCRIPT_SHA256}"`);
    expect(response.headers.get("Cache-Control")).toBe("no-cache");
  });

  it("answers 304 with no body when the browser already has this version", async () => {
    const etag = (await call("/check/app.js")).headers.get("ETag")!;
    const same = await call("/check/app.js", { headers: { "If-None-Match": `W/"other", ${etag}` } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    const other = await call("/check/app.js", { headers: { "If-None-Match": '"sha256-old"' } });
    expect(other.status).toBe(200);
  });

  it("serves the stylesheet as CSS", async () => {
    const response = await call("/check/app.css");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(await response.text()).toBe(CHECK_CSS);
  });

  it("leaves the API's own CSP alone", async () => {
    const response = await call("/healthz");
    expect(directives(response.headers.get("Content-Security-Policy"))).toEqual({
      "default-src": "'none'",
      "frame-ancestors": "'none'",
      "base-uri": "'none'",
    });
  });
});
