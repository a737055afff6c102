/**
 * FakeProviders behind a real node:http server on 127.0.0.1, for running the worker under
 * `wrangler dev`: point CLOUDFLARE_TURN_API_URL, METERED_API_URL and TWILIO_API_URL at `apiUrls`.
 * A caller that gives up (the worker's timeout) aborts the fake's pending reply.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type FakeOptions, type FakeProvider, FakeProviders } from "./providers";

export interface FakeProviderServer {
  fake: FakeProviders;
  apiUrls: Record<FakeProvider, string>;
  stop: () => Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeProviderServer(
  options: (apiUrls: Record<FakeProvider, string>) => FakeOptions,
): Promise<FakeProviderServer> {
  // Made once the port, and so the API URLs, are known.
  const state: { fake?: FakeProviders } = {};
  const server = createServer((request, response) => {
    const aborted = new AbortController();
    response.once("close", () => aborted.abort(new Error("client went away")));
    void (async () => {
      const origin = `http://${request.headers.host ?? "127.0.0.1"}`;
      const body = await readBody(request);
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string") headers.set(name, value);
      }
      const method = request.method ?? "GET";
      const webRequest = new Request(`${origin}${request.url ?? "/"}`, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : body,
      });
      const reply = await state.fake!.handle(webRequest, aborted.signal);
      const replyHeaders: Record<string, string> = {};
      reply.headers.forEach((value, name) => (replyHeaders[name] = value));
      response.writeHead(reply.status, replyHeaders);
      response.end(await reply.text());
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const apiUrls = { cloudflare: `${origin}/cloudflare/v1`, metered: `${origin}/metered`, twilio: `${origin}/twilio` };
  const fake = new FakeProviders(options(apiUrls));
  state.fake = fake;
  return {
    fake,
    apiUrls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
