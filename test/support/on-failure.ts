/**
 * vitest setupFile of the integration project: a passing test prints nothing of the processes it started (the worker
 * under `wrangler dev` logs every request), but a failing one shows the recent output of each process still running,
 * after its error. Processes keep their output in memory (test/support/processes.ts), bounded.
 */
import { afterEach } from "vitest";
import { runningOutput } from "./processes";

afterEach(({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const block of runningOutput()) console.log(block);
});
