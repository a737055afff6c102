/**
 * The worker evaluates zod/mini before its first request (src/index.ts, src/zod.ts). Specifications that
 * call a schema's module directly, not through the worker's fetch, get it loaded here first.
 */
import { loadZod } from "../../src/zod";

await loadZod();
