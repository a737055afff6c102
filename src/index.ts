/**
 * icegate: short-lived TURN credentials for WebRTC, minted at the edge.
 * The Worker's entry point: the HTTP app, and the Cron Trigger that health-checks the fleet.
 * Nothing runs at startup beyond building the router.
 */
import { buildApp } from "./app";
import { scheduled } from "./scheduled";

const app = buildApp();

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Cloudflare.Env>;
