# The one VirtRigaud image: `virtrigaud <command>` runs the webhook, the dispatcher, any agent
# (`virtrigaud agent libvirt`) and the installation Jobs (`nats-bootstrap`, `webhook-certs`).
#   docker build -t ghcr.io/virtrigaud/virtrigaud:0.1.0 .
# No engine builds it in this repository's CI; test/integration/cli.test.ts checks that every
# file it copies exists and that the bundle step below produces a working `virtrigaud`.

# --- build: all dependencies, then an ES module bundle of our code (npm packages stay external),
#     split per command: `virtrigaud dispatcher` loads the dispatcher's code and packages only.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY api ./api
COPY kube ./kube
COPY proto ./proto
COPY webhook ./webhook
COPY dispatcher ./dispatcher
COPY provider-agents ./provider-agents
COPY scripts ./scripts
COPY cli ./cli
RUN npx esbuild cli/virtrigaud.ts --bundle --platform=node --format=esm --target=node20 \
      --packages=external --splitting --outdir=dist --out-extension:.js=.mjs --log-level=warning

# --- runtime: production dependencies, the bundle, openssl (webhook-certs), a non-root user.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
RUN printf '#!/bin/sh\nexec node /app/dist/virtrigaud.mjs "$@"\n' > /usr/local/bin/virtrigaud \
 && chmod 0755 /usr/local/bin/virtrigaud
ENV NODE_ENV=production
USER 65532:65532
ENTRYPOINT ["virtrigaud"]
CMD ["--help"]
