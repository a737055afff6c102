import { describe, expect, it } from "vitest";
import { credentialsKey, KEY_PREFIX } from "../../../src/cache/keys";

const identity = (token: string, params: Record<string, string> = { ttl: "3600" }) => ({
  material: ["https://rtc.live.cloudflare.com/v1", "key-id", token],
  params,
});

describe("the cache key scheme", () => {
  it("is turn-creds:v1:<provider>:<fingerprint>:<params>:<scope>, with no secret in it", async () => {
    const key = await credentialsKey("cloudflare", identity("sentinel-token-abcdef"), { kind: "global" });
    expect(key).toMatch(/^turn-creds:v1:cloudflare:[0-9a-f]{12}:ttl=3600:global$/);
    expect(key.startsWith(KEY_PREFIX)).toBe(true);
    expect(key).not.toContain("sentinel-token-abcdef");
  });

  it("changes with the provider's key, so a rotation never finds the old credentials", async () => {
    const old = await credentialsKey("cloudflare", identity("sentinel-token-one"), { kind: "global" });
    const next = await credentialsKey("cloudflare", identity("sentinel-token-two"), { kind: "global" });
    expect(next).not.toBe(old);
  });

  it("holds the parameters, sorted, and the user-id hash with CACHE_SCOPE=user", async () => {
    const params = { ttl: "600", region: "europe", flow: "static" };
    const key = await credentialsKey("metered", identity("k", params), { kind: "user", userHash: "0123456789abcdef" });
    expect(key).toMatch(/:flow=static&region=europe&ttl=600:user=0123456789abcdef$/);
  });
});
