/**
 * A circuit breaker per provider, per isolate. After 3 failures in a row a provider is skipped for
 * 30 s (its cached credentials are still served); then one request may try it (half-open): success
 * closes the circuit, failure opens it for another 30 s. A trial that never reports back (its request
 * was cancelled) stops counting after 30 s, so a provider is never shut out for good.
 */
import { AppError } from "../errors";
import { providerError } from "./http";
import type { ProviderName } from "./provider";

export const FAILURES_TO_OPEN = 3;
export const OPEN_MS = 30_000;

interface Circuit {
  failures: number;
  openUntil: number;
  /** When the half-open trial started, or 0. */
  trialSince: number;
}

const circuits = new Map<ProviderName, Circuit>();

/** Whether `provider` may be called now; in the half-open state only the first caller may. */
export function breakerAllows(provider: ProviderName, now: number): boolean {
  const circuit = circuits.get(provider);
  if (!circuit || circuit.failures < FAILURES_TO_OPEN) return true;
  if (now < circuit.openUntil) return false;
  if (circuit.trialSince !== 0 && now - circuit.trialSince < OPEN_MS) return false;
  circuit.trialSince = now;
  return true;
}

export function recordSuccess(provider: ProviderName): void {
  circuits.delete(provider);
}

export function recordFailure(provider: ProviderName, now: number): void {
  const circuit = circuits.get(provider) ?? { failures: 0, openUntil: 0, trialSince: 0 };
  circuit.failures += 1;
  circuit.trialSince = 0;
  if (circuit.failures >= FAILURES_TO_OPEN) circuit.openUntil = now + OPEN_MS;
  circuits.set(provider, circuit);
}

/**
 * Runs one upstream call under the breaker: refused while open (reason `circuit_open`), and counted.
 * Anything a provider throws that is not an AppError (a bug) is a failure `error`, never a 500.
 */
export async function withBreaker<T>(provider: ProviderName, run: () => Promise<T>, now = Date.now()): Promise<T> {
  if (!breakerAllows(provider, now)) throw providerError(provider, "circuit_open");
  try {
    const result = await run();
    recordSuccess(provider);
    return result;
  } catch (error) {
    // A configuration mistake (a bad TURN_FLEET) says nothing about the provider's health.
    if (!(error instanceof AppError && error.code === "not_configured")) recordFailure(provider, Date.now());
    throw error instanceof AppError ? error : providerError(provider, "error");
  }
}

/** Closes every circuit. For tests. */
export function resetBreakers(): void {
  circuits.clear();
}
