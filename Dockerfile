# syntax=docker/dockerfile:1

# One build of the workspace, one small image per service:
#   docker build --target token-service -t passreset/token-service .
#   docker build --target mail-service  -t passreset/mail-service .
#   docker build --target gateway       -t passreset/gateway .
# `docker compose build` does the same through each service's `build.target`.
# No secret is baked in: every setting comes from the environment at run time.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The crate registry and the target dir live in BuildKit cache mounts, so a rebuild after a code
# change recompiles only our crates. A cache mount is not part of the image, hence the copy to
# /out. `proto` compiles its contracts with a vendored protoc: no system protoc needed.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p token-service -p mail-service -p gateway \
    && mkdir -p /out \
    && cp target/release/token-service target/release/mail-service target/release/gateway /out/

FROM debian:bookworm-slim AS runtime-base
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 passreset \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin passreset \
    && mkdir -p /app \
    && chown 10001:10001 /app
# /app is writable by the service user, e.g. for a `file://./outbox` mail transport.
WORKDIR /app
USER 10001:10001

FROM runtime-base AS token-service
COPY --from=builder /out/token-service /usr/local/bin/token-service
EXPOSE 50051 9091
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/token-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/token-service"]

FROM runtime-base AS mail-service
COPY --from=builder /out/mail-service /usr/local/bin/mail-service
EXPOSE 50052 9092
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/mail-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/mail-service"]

# Last, so a plain `docker build .` yields the gateway.
FROM runtime-base AS gateway
COPY --from=builder /out/gateway /usr/local/bin/gateway
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/gateway", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gateway"]
