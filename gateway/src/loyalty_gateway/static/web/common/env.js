// urql's ES build reads `process.env.NODE_ENV`, which bundlers replace; without a bundler
// the browser needs the object itself. Loaded as a classic script before the modules.
globalThis.process = { env: { NODE_ENV: "production" } };
