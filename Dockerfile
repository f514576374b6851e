# The Space image: the server compiled to JavaScript at build time, run by node itself as PID 1
# (so SIGTERM reaches it), as the `node` user (uid 1000, as Spaces expect).

# Build: compile the TypeScript once, here, so the container starts serving in well under a second.
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json app.ts ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
# Listen on every interface inside the container; require each caller's own HF token.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=7860 \
    FAST_AGENT_SERVE_OAUTH=huggingface
USER node
WORKDIR /home/node/app
COPY --chown=node package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --chown=node --from=build /build/dist ./dist
COPY --chown=node agents ./agents
EXPOSE 7860
CMD ["node", "dist/app.js"]
