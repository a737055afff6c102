/**
 * The OpenAPI 3.1 description of icegate, built from the same zod schemas that validate requests.
 * `npm run openapi` writes it to src/openapi/openapi.generated.json, which the worker serves at
 * /openapi.json without doing any of this work at run time; a test fails when that file is stale.
 */
import * as z from "zod";
import { partial } from "zod/mini";
import { CredentialsQuery } from "../routes/credentials";
import { RestQuery } from "../routes/rest";
import { VERSION } from "../version";

const IceServer = z
  .object({
    urls: z.union([z.string(), z.array(z.string())]),
    username: z.string().optional(),
    credential: z.string().optional(),
  })
  .meta({ description: "An RTCIceServer, ready for `new RTCPeerConnection({ iceServers })`." });

const CredentialsResponse = z.object({
  iceServers: z.array(IceServer),
  expiresAt: z.number().int().meta({ description: "When the credentials expire, epoch milliseconds." }),
  ttl: z.number().int().meta({ description: "Lifetime in seconds." }),
});

const RestResponse = z.object({
  username: z.string(),
  password: z.string(),
  ttl: z.number().int(),
  uris: z.array(z.string()),
});

const HealthResponse = z.object({
  status: z.literal("ok"),
  version: z.string(),
  providers: z.optional(z.array(z.string()).meta({ description: "Operator view only." })),
  secrets: z.optional(
    z.record(z.string(), z.union([z.string(), z.array(z.string())])).meta({
      description:
        "Operator view only (ADMIN_API_TOKEN): a short SHA-256 fingerprint of each secret in use, never the secret.",
    }),
  ),
});

const ErrorBody = z.object({
  error: z.object({
    code: z.enum([
      "invalid_request",
      "unauthorized",
      "invalid_token",
      "forbidden_origin",
      "revoked",
      "not_found",
      "method_not_allowed",
      "payload_too_large",
      "rate_limited",
      "not_configured",
      "upstream_unavailable",
      "internal_error",
    ]),
    message: z.string(),
  }),
});

type JsonSchema = Record<string, unknown>;
const schema = (type: z.core.$ZodType): JsonSchema => {
  const { $schema, ...rest } = z.toJSONSchema(type, { io: "input", unrepresentable: "any" });
  return rest;
};

/** One OpenAPI parameter per property of a request's query schema. */
function queryParameters(query: z.core.$ZodType): JsonSchema[] {
  const json = schema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

const json = (ref: string, description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const error = (description: string) => json("Error", description);
const retryAfter = (description: string) => ({
  ...error(description),
  headers: {
    "Retry-After": { description: "Seconds to wait before asking again.", schema: { type: "integer", minimum: 1 } },
  },
});

const errors = {
  "400": error("A query parameter is invalid, unknown or repeated."),
  "401": error("No token, or an invalid or expired one."),
  "403": error(
    "`forbidden_origin`: the request's Origin is not allowed; `revoked`: an operator revoked this user " +
      "(POST /api/admin/revoke).",
  ),
  "405": error("Another method than the ones in Allow."),
  "429": retryAfter("Rate limited (`rate_limited`); Retry-After says when to come back."),
  "503": retryAfter(
    "`not_configured` (the message names the variable), or `upstream_unavailable`: every provider failed and no " +
      "cached credentials were still valid (then with Retry-After).",
  ),
};

export function buildOpenApiDocument(): JsonSchema {
  return {
    openapi: "3.1.0",
    info: {
      title: "icegate",
      version: VERSION,
      description: "Short-lived TURN credentials for WebRTC, minted at the edge.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    paths: {
      "/api/turn/credentials": {
        get: {
          operationId: "getTurnCredentials",
          summary: "ICE servers with short-lived TURN credentials for the caller",
          security: [{ bearer: [] }, {}],
          parameters: queryParameters(CredentialsQuery()),
          responses: { "200": json("CredentialsResponse", "Credentials; never cached (no-store)."), ...errors },
        },
      },
      "/api/turn/rest": {
        get: {
          operationId: "getTurnRestCredentials",
          summary: "draft-uberti-behave-turn-rest-00 credentials for media servers",
          parameters: queryParameters(RestQuery()),
          responses: { "200": json("RestResponse", "Credentials in the draft's shape."), ...errors },
        },
        post: {
          operationId: "postTurnRestCredentials",
          summary: "The same, as Janus asks: parameters in the query or a form body",
          parameters: queryParameters(RestQuery()).map((parameter) => ({ ...parameter, required: false })),
          requestBody: {
            required: false,
            content: { "application/x-www-form-urlencoded": { schema: schema(partial(RestQuery())) } },
          },
          responses: {
            "200": json("RestResponse", "Credentials in the draft's shape."),
            "413": error("The form body is over 4 KiB."),
            ...errors,
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "getHealth",
          summary: "Status and version; with the operator token also providers and secret fingerprints",
          security: [{}, { operator: [] }],
          responses: {
            "200": json("HealthResponse", "Healthy."),
            "401": error("An Authorization header that is not `Bearer <ADMIN_API_TOKEN>`."),
            "429": errors["429"],
            "503": errors["503"],
          },
        },
      },
      "/api/admin/revoke": {
        post: {
          operationId: "revokeUser",
          summary: "Operator: stop issuing to one user, and say per backend what was done",
          security: [{ operator: [] }],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    user: { type: "string", description: "A token's `sub`." },
                    username: { type: "string", description: "An issued TURN username." },
                    reason: { type: "string", maxLength: 200 },
                  },
                },
              },
            },
          },
          responses: {
            "200": { description: "The deny entry (user hash, since, until) and what each backend did." },
            "400": error("The body is not `{user}` or `{username}` with an optional `reason`."),
            "401": error("No operator token, or a wrong one."),
            "404": error("ADMIN_API_TOKEN is not set: there is no operator route."),
            "413": error("The body is over 4 KiB."),
            "429": errors["429"],
            "503": error("`upstream_unavailable`: the deny list in KV could not be written, or is full."),
          },
        },
      },
      "/api/admin/revocations": {
        get: {
          operationId: "listRevocations",
          summary: "Operator: the active deny entries (user hash, since, until, reason)",
          security: [{ operator: [] }],
          responses: {
            "200": { description: "`{revocations: [{user, since, until, reason?}]}`" },
            "401": error("No operator token, or a wrong one."),
            "404": error("ADMIN_API_TOKEN is not set: there is no operator route."),
            "429": errors["429"],
            "503": error("`upstream_unavailable`: the deny list in KV could not be read."),
          },
        },
      },
      "/check": {
        get: {
          operationId: "getCheckPage",
          summary: "Connectivity check page: asks for credentials and tests STUN and TURN from the browser",
          responses: {
            "200": {
              description: "An HTML page with a strict Content-Security-Policy.",
              content: { "text/html": { schema: { type: "string" } } },
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        operator: { type: "http", scheme: "bearer", description: "ADMIN_API_TOKEN, for operators only." },
      },
      schemas: {
        CredentialsResponse: schema(CredentialsResponse),
        RestResponse: schema(RestResponse),
        HealthResponse: schema(HealthResponse),
        Error: schema(ErrorBody),
      },
    },
  };
}
