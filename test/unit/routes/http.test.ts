import { describe, expect, it } from "vitest";
import { bearer, call, signToken } from "../../support/worker-fetch";

const ALLOWED = "https://app.example.test";

async function errorOf(response: Response) {
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe("errors", () => {
  it("answers unknown routes with 404 JSON", async () => {
    const response = await call("/nope");
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toEqual({ code: "not_found", message: "No such route." });
  });

  it.each([
    ["DELETE", "/api/turn/credentials", "GET, OPTIONS"],
    ["POST", "/api/turn/credentials", "GET, OPTIONS"],
    ["PUT", "/api/turn/rest", "GET, POST, OPTIONS"],
    ["POST", "/healthz", "GET"],
  ])("answers %s %s with 405 and Allow", async (method, path, allow) => {
    const response = await call(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe(allow);
    expect((await errorOf(response)).code).toBe("method_not_allowed");
  });
});

describe("origin policy and CORS", () => {
  it("gives an allowed origin CORS headers for its own origin only", async () => {
    const response = await call("/api/turn/credentials", {
      headers: { Origin: ALLOWED, Authorization: `Bearer ${await signToken()}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
    expect(response.headers.get("Vary")).toBe("Origin, Authorization");
  });

  it("answers a preflight from an allowed origin", async () => {
    const response = await call("/api/turn/credentials", {
      method: "OPTIONS",
      headers: {
        Origin: ALLOWED,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
    expect(response.headers.get("Access-Control-Allow-Methods")).toBe("GET, OPTIONS");
    expect(response.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
  });

  it("matches a wildcard subdomain entry, and nothing else", async () => {
    const token = await signToken();
    const ok = await call("/api/turn/credentials", {
      headers: { Origin: "https://pr-7.preview.example.test", Authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    for (const origin of [
      "https://preview.example.test",
      "https://evil.test/.preview.example.test",
      "http://pr-7.preview.example.test",
    ]) {
      const response = await call("/api/turn/credentials", {
        headers: { Origin: origin, Authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(403);
    }
  });

  it.each(["https://evil.example.test", "null", "https://app.example.test.evil.test"])(
    "refuses the origin %s with 403 and no CORS headers, preflight included",
    async (origin) => {
      const attempts: RequestInit[] = [
        { headers: { Origin: origin, Authorization: `Bearer ${await signToken()}` } },
        { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "GET" } },
      ];
      for (const init of attempts) {
        const response = await call("/api/turn/credentials", init);
        expect(response.status).toBe(403);
        expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
        expect((await errorOf(response)).code).toBe("forbidden_origin");
      }
    },
  );

  it("applies the policy to the REST route too", async () => {
    const response = await call("/api/turn/rest?service=turn&key=x", {
      headers: { Origin: "https://evil.example.test" },
    });
    expect(response.status).toBe(403);
  });

  it("refuses every browser origin when ALLOWED_ORIGINS is empty", async () => {
    const response = await call(
      "/api/turn/credentials",
      { headers: { Origin: ALLOWED, Authorization: `Bearer ${await signToken()}` } },
      { ALLOWED_ORIGINS: undefined },
    );
    expect(response.status).toBe(403);
  });
});

describe("security headers", () => {
  it.each(["/api/turn/credentials", "/healthz", "/nope"])("are on every response (%s)", async (path) => {
    const response = await call(path, bearer(await signToken()));
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
  });

  it("include no-store on error replies", async () => {
    expect((await call("/api/turn/credentials")).headers.get("Cache-Control")).toBe("no-store");
  });
});

describe("request bounds", () => {
  const expect400 = async (response: Response) => {
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({ code: "invalid_request", message: "The request is too large." });
  };

  it("refuses a URL over 2 KiB", async () => {
    await expect400(await call(`/api/turn/credentials?ttl=${"9".repeat(2100)}`));
  });

  it("refuses a header block over 16 KiB", async () => {
    await expect400(await call("/healthz", { headers: { "X-Padding": "a".repeat(17 * 1024) } }));
  });

  it("refuses more than 16 query parameters", async () => {
    const query = Array.from({ length: 17 }, (_, i) => `p${i}=1`).join("&");
    await expect400(await call(`/api/turn/credentials?${query}`));
  });

  it("lets ordinary requests through", async () => {
    expect((await call("/healthz", { headers: { "X-Padding": "a".repeat(1024) } })).status).toBe(200);
  });
});
