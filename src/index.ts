/**
 * icegate: short-lived TURN credentials for WebRTC, minted at the edge.
 * The Worker's entry point: the HTTP app, and the Cron Trigger that health-checks the fleet.
 * Nothing runs at startup beyond building the router; zod/mini is evaluated before the first
 * request or cron run (src/zod.ts), and jose before the first token check (src/auth/jose.ts).
 */
import { buildApp } from "./app";
import { scheduled } from "./scheduled";
import { loadZod, zodLoaded } from "./zod";

const app = buildApp();

export default {
  fetch: (request: Request, env: Cloudflare.Env, ctx: ExecutionContext) =>
    zodLoaded() ? app.fetch(request, env, ctx) : loadZod().then(() => app.fetch(request, env, ctx)),
  scheduled: async (controller: ScheduledController, env: Cloudflare.Env) => {
    await loadZod();
    return scheduled(controller, env);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
