/**
 * The fleet description: the coturn nodes icegate steers clients to, as written in
 * infrastructure/fleet.example.json. Node URLs pass the browser rules (providers/url-rules.ts) and name
 * public hosts: no localhost, no private or special IP literal, unless the node opts in with `"lab": true`. Parsed with zod, once per raw string (cached by value), so a
 * fleet read from a var or from KV on every request costs a map lookup.
 */
import type * as z from "zod/mini";
import { schema, type ZodMini } from "../zod";
import { isPublicHost, parseIceUrlParts } from "../providers/url-rules";
import { parseIceUrl } from "./turn-url";

/** At most this many nodes: KV reads all their health records in one bulk get (100 keys). */
export const MAX_NODES = 100;

const turnUrl = (z: ZodMini, scheme: "turn" | "turns", transport: "udp" | "tcp" | "tls", example: string) =>
  z.optional(
    z.string().check(
      z.refine((url) => {
        const target = parseIceUrl(url);
        return (
          typeof parseIceUrlParts(url) !== "string" &&
          target?.scheme === scheme &&
          target.transport === transport &&
          (transport === "tls" || target.explicitTransport)
        );
      }, `must look like ${example}`),
    ),
  );

export const FleetNode = schema((z) =>
  z
    .strictObject({
      /** Also part of KV keys and of the X-Icegate-Steering header: short, lowercase, no spaces. */
      id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and -")),
      region: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
      latitude: z.number().check(z.gte(-90), z.lte(90)),
      longitude: z.number().check(z.gte(-180), z.lte(180)),
      /** ISO 3166-1 alpha-2, as request.cf.country: matching when a request has no coordinates. */
      country: z.optional(z.string().check(z.regex(/^[A-Z]{2}$/))),
      /** Cloudflare's continent code, as request.cf.continent. */
      continent: z.optional(z.enum(["AF", "AN", "AS", "EU", "NA", "OC", "SA"])),
      urls: z
        .strictObject({
          udp: turnUrl(z, "turn", "udp", "turn:host:3478?transport=udp"),
          tcp: turnUrl(z, "turn", "tcp", "turn:host:3478?transport=tcp"),
          tls: turnUrl(z, "turns", "tls", "turns:host:5349?transport=tcp"),
        })
        .check(z.refine((urls) => urls.udp ?? urls.tcp ?? urls.tls, "at least one of udp, tcp, tls")),
      /** Preference among equally near nodes: higher first. */
      weight: z._default(z.number().check(z.positive()), 1),
      /** Opt-in for a lab or test node: its URLs may name localhost or a private or special IP address. */
      lab: z.optional(z.boolean()),
    })
    .check(
      z.superRefine((node, ctx) => {
        if (node.lab === true) return;
        for (const transport of ["udp", "tcp", "tls"] as const) {
          const parts = parseIceUrlParts(node.urls[transport] ?? "");
          if (typeof parts !== "string" && !isPublicHost(parts.host)) {
            const message = 'must name a public hostname or IP address (or the node sets "lab": true)';
            ctx.addIssue({ code: "custom", path: ["urls", transport], message });
          }
        }
      }),
    ),
);
export type FleetNode = z.infer<ReturnType<typeof FleetNode>>;

export const Fleet = schema((z) =>
  z
    .object({
      $comment: z.optional(z.string()),
      version: z.literal(1),
      nodes: z.array(FleetNode()).check(z.minLength(1), z.maxLength(MAX_NODES)),
    })
    .check(
      z.superRefine((fleet, ctx) => {
        const seen = new Set<string>();
        fleet.nodes.forEach((node, index) => {
          if (seen.has(node.id))
            ctx.addIssue({ code: "custom", path: ["nodes", index, "id"], message: "duplicate id" });
          seen.add(node.id);
        });
      }),
    ),
);
export type Fleet = z.infer<ReturnType<typeof Fleet>>;

/** A fleet that does not parse. `problem` names where (`nodes.1.urls.tcp: must look like …`), never a value. */
export class FleetFormatError extends Error {
  readonly problem: string;
  constructor(problem: string) {
    super(`invalid fleet: ${problem}`);
    this.name = "FleetFormatError";
    this.problem = problem;
  }
}

const MAX_CACHED = 4;
const parsed = new Map<string, Fleet | FleetFormatError>();

/** Parses a fleet file's text. Throws FleetFormatError. Results are cached by the text itself. */
export function parseFleet(raw: string): Fleet {
  let result = parsed.get(raw);
  if (!result) {
    result = parseUncached(raw);
    if (parsed.size >= MAX_CACHED) parsed.delete(parsed.keys().next().value!);
    parsed.set(raw, result);
  }
  if (result instanceof FleetFormatError) throw result;
  return result;
}

function parseUncached(raw: string): Fleet | FleetFormatError {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return new FleetFormatError("not JSON");
  }
  const result = Fleet().safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  return new FleetFormatError(`${issue?.path.join(".") || "fleet"}: ${issue?.message ?? "invalid"}`);
}
