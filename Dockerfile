# Build: the same `cargo build --release` the README describes.
FROM rust:1-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs diesel.toml ./
COPY migrations migrations
COPY assets assets
COPY src src
RUN cargo build --release --locked

# Run: a slim Debian with libpq and an unprivileged user. Expects DATABASE_URL and JWT_SECRET.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libssl3 ca-certificates \
    tesseract-ocr tesseract-ocr-eng tesseract-ocr-vie poppler-utils libheif-examples \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/finai finai
COPY --from=build /src/target/release/finai /usr/local/bin/finai
USER 10001
WORKDIR /var/lib/finai
ENV FINAI_BIND=0.0.0.0:8080 \
    FINAI_ENV=production \
    FINAI_DATA_DIR=/var/lib/finai \
    RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["finai"]
CMD ["serve"]
