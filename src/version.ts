/** The release of icegate, reported by /healthz and the OpenAPI document; test/node/version.test.ts keeps it equal to package.json. */
export const VERSION = "0.2.0";
