# syntax=docker/dockerfile:1

# Build a static binary: no cgo (SQLite is pure Go), no local paths in it.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /gosid ./cmd/gosid
# The data directory (embedded database, generated keys) must belong to the
# nonroot user; an empty named volume copies this ownership on first use.
RUN mkdir -p /out/data

# distroless/static has CA certificates and tzdata, and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /gosid /gosid
COPY --from=build --chown=65532:65532 /out/data /data
# The admin listener (/metrics, /healthz, /readyz) listens on all of the
# container's interfaces so that Prometheus can reach it; publish it only
# on a private network.
ENV GOSID_ADDR=:8080 \
    GOSID_ADMIN_ADDR=:9090 \
    GOSID_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080 9090
USER nonroot:nonroot
ENTRYPOINT ["/gosid"]
CMD ["serve"]
