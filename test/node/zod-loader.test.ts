/**
 * zod/mini is evaluated when the worker handles its first request or cron run (src/index.ts awaits
 * loadZod), not at startup: a schema used before that is a programming error, said loudly, and a schema is
 * built once, on first use, with the loaded module.
 */
import { describe, expect, it } from "vitest";
import { loadZod, schema, zod, zodLoaded } from "../../src/zod";

describe("the zod/mini loader (src/zod.ts)", () => {
  it("refuses zod before loadZod() resolved, then hands over the same module every time", async () => {
    expect(zodLoaded()).toBe(false);
    expect(() => zod()).toThrow(/before loadZod\(\) resolved/);
    const loaded = await loadZod();
    expect(zodLoaded()).toBe(true);
    expect(zod()).toBe(loaded);
    expect(await loadZod()).toBe(loaded);
  });

  it("builds a schema once, on first use, with the loaded module", async () => {
    await loadZod();
    let builds = 0;
    const Name = schema((z) => {
      builds++;
      return z.object({ name: z.string().check(z.minLength(1)) });
    });
    expect(builds).toBe(0);
    expect(Name().safeParse({ name: "icegate" }).success).toBe(true);
    expect(Name().safeParse({ name: "" }).success).toBe(false);
    expect(builds).toBe(1);
  });
});
