import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../../src/openapi/document";
import { OPENAPI_BODY } from "../../../src/openapi/openapi.body.generated";
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

  it("serves that document as generated JSON text (openapi.body.generated.ts), the same document as the .json file", () => {
    expect(OPENAPI_BODY, "src/openapi/openapi.body.generated.ts is stale: run `npm run openapi`").toBe(
      JSON.stringify(generated),
    );
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

  it("describes the operator routes and the 403 `revoked` code", () => {
    const paths = (generated as unknown as Document).paths;
    expect(Object.keys(paths["/api/admin/revoke"]!.post!.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "404",
      "413",
      "429",
      "503",
    ]);
    expect(Object.keys(paths["/api/admin/revocations"]!.get!.responses).sort()).toEqual([
      "200",
      "401",
      "404",
      "429",
      "503",
    ]);
    expect(JSON.stringify(paths["/api/turn/credentials"]!.get!.responses["403"])).toContain("`revoked`");
    expect(JSON.stringify(paths["/api/turn/rest"]!.get!.responses["403"])).toContain("`revoked`");
  });
});
