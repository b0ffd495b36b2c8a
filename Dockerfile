# syntax=docker/dockerfile:1
# Multi-stage build of the auth server: a static, cgo-free binary (SQLite is the pure-Go
# modernc.org/sqlite driver) on a distroless non-root base. -tags nomsgpack drops gin's
# unused MessagePack codec (1.6 MiB less resident memory). .ci/run builds the binary
# with the same flags and checks that it is static, since no Docker engine runs there.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -tags nomsgpack -trimpath -ldflags "-s -w" -o /out/authbackend ./cmd/authbackend \
 && go build -trimpath -ldflags "-s -w" -o /out/mockpalette ./cmd/mockpalette

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/authbackend /usr/local/bin/authbackend
# SQLite (the default key store) writes to /app/data; mount a volume there or use PostgreSQL.
USER 65532:65532
EXPOSE 7007
ENTRYPOINT ["/usr/local/bin/authbackend"]
CMD ["--config", "/app/app-config.yaml"]
