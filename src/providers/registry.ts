/**
 * The providers by name, and the list TURN_PROVIDERS asks for, built once per Config. A listed
 * provider whose settings are missing cannot happen after config.ts's checks; if it did, it is
 * a 503 `not_configured`, never a crash.
 */
import type { Config } from "../config";
import { notConfigured } from "../errors";
import { cloudflareProvider } from "./cloudflare";
import { coturnProvider } from "./coturn";
import { expressTurnProvider } from "./expressturn";
import { meteredProvider } from "./metered";
import type { Provider, ProviderName } from "./provider";
import { twilioProvider } from "./twilio";

function required<T>(settings: T | undefined): T {
  if (settings === undefined) throw notConfigured("TURN_PROVIDERS");
  return settings;
}

const FACTORIES: Record<ProviderName, (config: Config) => Provider> = {
  coturn: (config) => coturnProvider(config.turn),
  cloudflare: (config) => cloudflareProvider(required(config.upstream.cloudflare)),
  metered: (config) => meteredProvider(required(config.upstream.metered)),
  twilio: (config) => twilioProvider(required(config.upstream.twilio)),
  expressturn: (config) => expressTurnProvider(required(config.upstream.expressturn), config.turn),
};

const built = new WeakMap<Config, Provider[]>();
const named = new WeakMap<Config, Map<ProviderName, Provider>>();

/** The providers of `names` (each configured: see TURN_REST_PROVIDERS in settings.ts), built once per Config. */
export function providersNamed(config: Config, names: readonly ProviderName[]): Provider[] {
  let byName = named.get(config);
  if (!byName) {
    byName = new Map(configuredProviders(config).map((provider) => [provider.name, provider]));
    named.set(config, byName);
  }
  return names.map((name) => {
    let provider = byName.get(name);
    if (!provider) byName.set(name, (provider = FACTORIES[name](config)));
    return provider;
  });
}

/** The providers of TURN_PROVIDERS, in order. */
export function configuredProviders(config: Config): Provider[] {
  let providers = built.get(config);
  if (!providers) {
    providers = config.providers.map((name) => FACTORIES[name](config));
    built.set(config, providers);
  }
  return providers;
}
