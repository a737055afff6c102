import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../../src/openapi/document";
import generated from "../../../src/openapi/openapi.generated.json";
import { call } from "../../support/worker-fetch";

interface Operation {
  parameters?: { name: string; in: string; required: boolean }[];
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

describe("GET /openapi.json", () => {
  it("serves the committed document, and that document is what the zod schemas generate now", async () => {
    expect(buildOpenApiDocument(), "src/openapi/openapi.generated.json is stale: run `npm run openapi`").toEqual(
      generated,
    );
    const response = await call("/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(generated);
  });

  it("describes /api/turn/credentials with its ttl parameter and its error replies", () => {
    const operation = (generated as unknown as Document).paths["/api/turn/credentials"]!.get!;
    expect(operation.parameters).toEqual([expect.objectContaining({ name: "ttl", in: "query", required: false })]);
    expect(Object.keys(operation.responses).sort()).toEqual(["200", "400", "401", "403", "405", "429", "503"]);
  });

  it("describes the REST draft route's parameters from the same schema that validates them", () => {
    const names = (generated as unknown as Document).paths["/api/turn/rest"]!.get!.parameters!.map((p) => p.name);
    expect(names.sort()).toEqual(["api", "key", "service", "username"]);
  });
});
