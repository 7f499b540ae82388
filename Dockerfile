# Stepstone app image, in two stages.
#
# build: every dependency (the Prisma client generator, esbuild, Vite), then `npm run build`, which
# bundles the server (with the generated Prisma client) into dist/server/, makes the embedded
# database template (used only when the container runs without DATABASE_URL) and builds the web
# client into client/dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json ./
# The postinstall step generates the Prisma client offline.
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY client ./client
RUN npm run build

# run: production dependencies and the compiled server, started with plain node (not through npm,
# so SIGTERM from `docker stop` reaches the server, which drains and exits within 8 s).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data
COPY package.json package-lock.json ./
# Scripts are skipped: the Prisma client is compiled into the bundle, nothing needs generating.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY prisma/migrations ./prisma/migrations
COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist
RUN mkdir -p /app/.data && chown -R node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/server/main.js"]
