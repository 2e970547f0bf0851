# ivs-bot container image. Three stages: `build` compiles with the dev dependencies, `deps` installs
# the production dependencies only, and `runtime` gets just those two outputs and package.json.
# Build: docker build -t ivs-bot .   Run: docker run --env-file .env -p 3000:3000 ivs-bot

# ---- build: compile TypeScript with the dev dependencies ---------------------------------------
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only --------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------
FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The files belong to root and are read-only for the bot; it runs as the image's unprivileged
# `node` user and writes nothing to disk (logs go to stdout). Numeric, so that Kubernetes'
# runAsNonRoot can verify it without a runAsUser.
USER 1000:1000
EXPOSE 3000
# No curl in slim images: node itself asks /healthz (200 while the process lives).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same command as `npm start`, without npm in between: signals (SIGTERM) reach the bot directly.
CMD ["node", "dist/src/main.js"]
