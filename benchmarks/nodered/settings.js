// Headless Node-RED for benchmarks/ingest_throughput.py: no editor, user data in a temp folder, flow preloaded.
module.exports = {
  uiHost: "127.0.0.1",
  uiPort: parseInt(process.env.NR_HTTP_PORT || "1880", 10),
  httpAdminRoot: false,
  httpNodeRoot: false,
  flowFile: "flow.json",
  credentialSecret: false,
  logging: { console: { level: "warn", metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false } },
  functionGlobalContext: {},
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  telemetry: { enabled: false },
};
