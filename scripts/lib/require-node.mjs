#!/usr/bin/env node
// Stops early, in one line that says how to get Node 22, when this Node is too old for icegate's commands
// (`npm start`, `npm run turn:health` and the rest need Node 22.6: type stripping, WebCrypto in workerd's tools).
// Imported first by scripts/dev.mjs; run on its own before commands that Node 20 cannot even parse.
// Written for any Node: no syntax or API newer than Node 12.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);

if (major < 22 || (major === 22 && minor < 6)) {
  console.error(
    `icegate needs Node 22.6 or newer; this is Node ${process.versions.node}. Get Node 22 from https://nodejs.org ` +
      "(or `nvm install 22`, `fnm install 22`, `volta install node@22`), then run the command again.",
  );
  process.exit(1);
}
