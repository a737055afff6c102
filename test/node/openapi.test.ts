/** The committed OpenAPI document validates against the OpenAPI 3.1 schema (the validator needs Node's fs). */
import { Validator } from "@seriousme/openapi-schema-validator";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/wrangler-dev";

describe("openapi.generated.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const document = JSON.parse(readFileSync(join(PROJECT_ROOT, "src/openapi/openapi.generated.json"), "utf8"));
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("would be caught by the validator if it lost a required part", async () => {
    const document = JSON.parse(readFileSync(join(PROJECT_ROOT, "src/openapi/openapi.generated.json"), "utf8"));
    delete document.info;
    expect((await new Validator().validate(document)).valid).toBe(false);
  });
});
