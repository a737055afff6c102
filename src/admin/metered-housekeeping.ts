/**
 * Metered housekeeping, from the cron: in secret-key mode every credential lifetime creates a Metered credential
 * labelled `icegate`, which stays in the account after it expires. This lists them, expired ones included
 * (`GET {api}/api/v2/turn/credentials?secretKey=…&all=true&label=icegate&page=N`, answered
 * `{"data":[{username,label,expired,…}],"pagination":{next_page,…}}`), and deletes each expired one
 * (`DELETE {api}/api/v1/turn/credential?secretKey=…` with `{"username"}`, answered 200
 * `{"success":true,"message":"credential removed"}`). The v2 `DELETE …/credential/by_label` is not used: it
 * deletes the label's ACTIVE credentials. Bounded per run: MAX_PAGES pages, MAX_DELETIONS deletions, five at
 * a time (six outbound connections per invocation). Never throws; the summary has counts only, no secret.
 */
import { schema } from "../zod";
import { AppError } from "../errors";
import { discardBody } from "../http/body";
import { fetchJson, parseReply } from "../providers/http";
import type { MeteredSettings } from "../providers/settings";

const LABEL = "icegate";
const MAX_PAGES = 10;
export const MAX_DELETIONS = 100;
const PARALLEL = 5;

const ListReply = schema((z) =>
  z.object({
    data: z.array(
      z.object({
        username: z.string().check(z.minLength(1), z.maxLength(512)),
        label: z.optional(z.nullable(z.string())),
        expired: z.optional(z.boolean()),
      }),
    ),
    pagination: z.optional(z.object({ next_page: z.optional(z.nullable(z.number())) })),
  }),
);

export interface HousekeepingSummary {
  expired: number;
  deleted: number;
  failed: number;
  error?: string;
}

/** Deletes the expired `icegate` credentials of a secret-key Metered account. */
export async function deleteExpiredMeteredCredentials(
  settings: Pick<MeteredSettings, "apiUrl" | "secretKey">,
  timeoutMs: number,
): Promise<HousekeepingSummary> {
  const { apiUrl, secretKey } = settings;
  const summary: HousekeepingSummary = { expired: 0, deleted: 0, failed: 0 };
  if (!secretKey) return summary;
  const expired: string[] = [];
  try {
    for (let page: number | null | undefined = 1, pages = 0; page && pages < MAX_PAGES; pages++) {
      const url = new URL(`${apiUrl}/api/v2/turn/credentials`);
      url.searchParams.set("secretKey", secretKey);
      url.searchParams.set("all", "true");
      url.searchParams.set("label", LABEL);
      url.searchParams.set("page", String(page));
      const body = await fetchJson({
        provider: "metered",
        url: url.toString(),
        init: { method: "GET" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const reply = parseReply("metered", ListReply(), body);
      for (const credential of reply.data) {
        if (credential.expired === true && credential.label === LABEL) expired.push(credential.username);
      }
      page = reply.pagination?.next_page;
    }
  } catch (error) {
    summary.error = (error instanceof AppError ? error.reason : undefined) ?? "list_failed";
  }
  summary.expired = expired.length;
  const url = new URL(`${apiUrl}/api/v1/turn/credential`);
  url.searchParams.set("secretKey", secretKey);
  const batch = expired.slice(0, MAX_DELETIONS);
  for (let start = 0; start < batch.length; start += PARALLEL) {
    const results = await Promise.all(
      batch.slice(start, start + PARALLEL).map(async (username) => {
        try {
          const response = await fetch(url.toString(), {
            method: "DELETE",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ username }),
            redirect: "manual",
            signal: AbortSignal.timeout(timeoutMs),
          });
          discardBody(response);
          return response.ok;
        } catch {
          return false;
        }
      }),
    );
    for (const ok of results) summary[ok ? "deleted" : "failed"]++;
  }
  return summary;
}
