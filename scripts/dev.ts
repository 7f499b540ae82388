/**
 * `npm run dev`: the API server with reload on change (tsx watch, port PORT or 3000) and the web
 * client on Vite's dev server with hot reload (port CLIENT_DEV_PORT or 5173), which proxies /api
 * and /socket.io to the API server. Open the client's URL; join links printed by the server point
 * there too. Ctrl-C (or SIGTERM to this process) stops both.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "vite";

const root = fileURLToPath(new URL("..", import.meta.url));
const apiPort = process.env.PORT ?? "3000";
const clientPort = Number(process.env.CLIENT_DEV_PORT ?? 5173);
const clientUrl = `http://localhost:${clientPort}`;

const api = spawn(join(root, "node_modules/.bin/tsx"), ["watch", "src/main.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PORT: apiPort, PUBLIC_URL: process.env.PUBLIC_URL ?? clientUrl },
});

process.env.STEPSTONE_API_URL ??= `http://127.0.0.1:${apiPort}`;
const vite = await createServer({
  configFile: fileURLToPath(new URL("../client/vite.config.ts", import.meta.url)),
  server: { port: clientPort, strictPort: true },
});
await vite.listen();
vite.printUrls();

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  api.kill("SIGTERM");
  await vite.close();
  process.exit(code);
};
api.once("exit", (code) => void stop(code ?? 0));
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
