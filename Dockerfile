# syntax=docker/dockerfile:1
# Multi-stage build: a static binary on distroless, running as non-root with
# the database on the /data volume (SPEC §7).
#
# The same image runs the playground (SPEC §12), no tokens needed:
#   docker run -p 127.0.0.1:8090:8090 IMAGE playground --addr 0.0.0.0:8090
# and opens on http://127.0.0.1:8090 (its database is /data/playground.db).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/uxpin-access-bot ./cmd/uxpin-access-bot
# distroless has no shell to mkdir or chown: prepare /data here, owned by the
# image's nonroot user (65532), so the volume is writable.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/uxpin-access-bot /uxpin-access-bot
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
ENV UXPIN_DB_PATH=/data/uxpin-access.db UXPIN_HTTP_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080 8090
# Relative paths (the playground's data/playground.db) land on the volume.
WORKDIR /
# distroless has no curl: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/uxpin-access-bot", "healthcheck"]
ENTRYPOINT ["/uxpin-access-bot"]
