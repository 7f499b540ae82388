import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
/** Where `npm run dev` runs the API server (vite proxies /api and /socket.io to it). */
const apiTarget = process.env.STEPSTONE_API_URL ?? "http://127.0.0.1:3000";

/**
 * The web client: Preact with JSX through Vite's own transform (no Babel), built to client/dist
 * with hashed file names, which the server serves as immutable.
 */
export default defineConfig({
  root,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  server: {
    host: "127.0.0.1",
    port: Number(process.env.CLIENT_DEV_PORT ?? 5173),
    // The client imports src/protocol/ and the essay text helpers from the server's tree.
    fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] },
    proxy: {
      "/api": { target: apiTarget, changeOrigin: false },
      "/socket.io": { target: apiTarget, ws: true, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsDir: "assets",
  },
});
