/**
 * Fake managed TURN providers that speak each provider's documented API, quirks included, and the
 * error replies a test asks for (one file per provider: cloudflare.ts, metered.ts, twilio.ts).
 * Runtime-agnostic (web Request in, Response out): the workerd tests drive it through a `fetch` spy
 * (fetch-spy.ts), the `wrangler dev` run through a loopback node:http server (http-server.ts). A
 * request no fake recognises is recorded in `unexpected` and answered 599, so a test that checks
 * `unexpected` fails loudly.
 */
import { cloudflareFake } from "./cloudflare";
import type { Behaviour, FakeHandler, FakeProvider, Issued } from "./fake";
import { meteredFake } from "./metered";
import { twilioFake } from "./twilio";

export type { Behaviour, FakeProvider } from "./fake";

export interface RecordedCall {
  provider: FakeProvider;
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  contentType: string | null;
  body: string;
}

export interface FakeOptions {
  /** Each provider's API base URL; requests are routed by prefix. */
  bases: Record<FakeProvider, string>;
  /** Metered API keys that exist (keys made by the secret-key flow are added). */
  meteredApiKeys: string[];
  meteredSecretKeys: string[];
  /** `user:password` pairs Twilio accepts. */
  twilioLogins: string[];
}

export class FakeProviders {
  readonly calls: RecordedCall[] = [];
  readonly unexpected: string[] = [];
  private readonly behaviours = new Map<FakeProvider, Behaviour>();
  private readonly queued = new Map<FakeProvider, Behaviour[]>();
  private readonly handlers: Record<FakeProvider, FakeHandler>;
  private issued = 0;
  private gate: Promise<void> | undefined;

  constructor(readonly options: FakeOptions) {
    this.handlers = {
      cloudflare: cloudflareFake(),
      metered: meteredFake(options.meteredApiKeys, options.meteredSecretKeys),
      twilio: twilioFake(options.twilioLogins),
    };
  }

  set(provider: FakeProvider, behaviour: Behaviour): this {
    this.behaviours.set(provider, behaviour);
    this.queued.delete(provider);
    return this;
  }

  /** Answers the next calls to `provider` with `behaviours`, one call each, then keeps to the last one. */
  sequence(provider: FakeProvider, behaviours: [Behaviour, ...Behaviour[]]): this {
    this.set(provider, behaviours[behaviours.length - 1]!);
    this.queued.set(provider, behaviours.slice(0, -1));
    return this;
  }

  /** Upstream calls received by `provider` so far (for Metered's secret-key flow, POSTs and GETs). */
  count(provider: FakeProvider, method?: string): number {
    return this.calls.filter((call) => call.provider === provider && (!method || call.method === method)).length;
  }

  /** Holds every reply until the returned function is called. */
  hold(): () => void {
    let release = () => {};
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  async handle(request: Request, signal?: AbortSignal | null): Promise<Response> {
    const url = new URL(request.url);
    const what = `${request.method} ${url.origin}${url.pathname}`;
    const provider = (Object.keys(this.options.bases) as FakeProvider[]).find((name) =>
      request.url.startsWith(`${this.options.bases[name]}/`),
    );
    if (!provider) return this.refuse(what);
    const path = url.pathname.slice(new URL(this.options.bases[provider]).pathname.replace(/\/$/, "").length);
    const body = new TextDecoder().decode(await request.arrayBuffer());
    const { method, headers } = request;
    this.calls.push({
      provider,
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      authorization: headers.get("Authorization"),
      contentType: headers.get("Content-Type"),
      body,
    });
    if (this.gate) await this.gate;
    const behaviour = this.queued.get(provider)?.shift() ?? this.behaviours.get(provider) ?? "ok";
    if (behaviour === "hang")
      return new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
    if (behaviour === "status_500") return new Response("<html>Internal Server Error</html>", { status: 500 });
    const issue = (prefix: string): Issued => {
      this.issued += 1;
      return { username: `${prefix}-user-${this.issued}`, credential: `${prefix}-credential-${this.issued}` };
    };
    const reply = this.handlers[provider](
      { method, path, query: url.searchParams, headers, body },
      { behaviour, issue },
    );
    return reply ?? this.refuse(what);
  }

  private refuse(what: string): Response {
    this.unexpected.push(what);
    return new Response(`unexpected request: ${what}`, { status: 599 });
  }
}
