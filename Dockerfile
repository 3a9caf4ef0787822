# syntax=docker/dockerfile:1
# botmem as a container: the release binary on Debian slim, run as the
# non-root user 10001, serving on 0.0.0.0:8080.
#
#   docker build -t botmem .
#   docker run --rm -p 8080:8080 -v botmem-data:/data botmem        # SQLite in /data
#   docker run --rm -p 8080:8080 -e BOTMEM_DATABASE_URL=postgres://... \
#     -e BOTMEM_JWT_SECRET=... botmem
#
# The Helm chart in charts/botmem runs this image (`botmem migrate` in its
# migration Job, `botmem serve` in the Deployment).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep crates and compiled dependencies between builds.
# Debug line tables (profile.release, kept for perf) are stripped from the
# image's binary: symbols stay, so panics still name functions.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin botmem \
    && strip --strip-debug -o /usr/local/bin/botmem target/release/botmem

FROM debian:bookworm-slim
# ca-certificates: TLS to PostgreSQL (sslmode=require/verify-full) and JWKS.
# Versions are not pinned: bookworm's security updates should land on rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 botmem \
    && useradd --system --uid 10001 --gid botmem --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin botmem \
    && install -d -o botmem -g botmem -m 0750 /data
COPY --from=build /usr/local/bin/botmem /usr/local/bin/botmem

USER 10001:10001
# The default SQLite file (botmem.db in the working folder) lands in /data.
WORKDIR /data
ENV BOTMEM_LISTEN=0.0.0.0:8080
EXPOSE 8080

# For `docker run` (Kubernetes ignores HEALTHCHECK and uses the chart's
# probes on /healthz and /readyz). The slim image has no curl: bash's
# /dev/tcp sends the request. Assumes the default port 8080.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["botmem"]
CMD ["serve"]
