# The Space HUB services image (docker-compose.yml). ClickHouse, Kafka, the registry and Redis run as
# their own official images there, so the chDB engine (an optional dependency) is left out.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --omit=optional

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
# The models volume (docker-compose.yml) mounts here; it must be writable by the unprivileged user.
RUN mkdir -p /app/.stack/models && chown -R node:node /app/.stack
USER node
ENTRYPOINT ["node", "--enable-source-maps", "dist/cli/spacehub.js"]
CMD ["all"]
