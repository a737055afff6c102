/**
 * icegate: short-lived TURN credentials for WebRTC, minted at the edge.
 * The Worker's entry point. Nothing runs at startup beyond building the router.
 */
import { buildApp } from "./app";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
