/** The release of icegate, reported by /healthz. A unit test keeps it equal to package.json. */
export const VERSION = "0.1.0";
