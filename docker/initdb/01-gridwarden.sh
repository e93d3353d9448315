#!/bin/sh
# Run once by the postgres image on an empty data volume (docker-compose.yml, service db).
# GENERATED from devstack/provisioning.py, the one definition of the roles, databases and
# extensions that ./gw provisions locally: do not edit; run `.venv/bin/python -m devstack.provisioning`.
# The role passwords come from the environment (GW_DB_OWNER_PASSWORD, GW_DB_APP_PASSWORD); there is
# no default. They reach psql as variables, never in the SQL text of this file.
set -e
: "${GW_DB_OWNER_PASSWORD:?GW_DB_OWNER_PASSWORD is not set}"
: "${GW_DB_APP_PASSWORD:?GW_DB_APP_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$GW_DB_OWNER_PASSWORD" -v app_password="$GW_DB_APP_PASSWORD" <<'EOSQL'
CREATE ROLE "gridwarden_owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE "gridwarden_app" LOGIN PASSWORD :'app_password';
ALTER ROLE "gridwarden_app" SET "jit" = 'off';
CREATE DATABASE "gridwarden" OWNER "gridwarden_owner";
CREATE DATABASE "gridwarden_test" OWNER "gridwarden_owner";
CREATE DATABASE "gridwarden_bench" OWNER "gridwarden_owner";
EOSQL

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname gridwarden <<'EOSQL'
CREATE EXTENSION IF NOT EXISTS "postgis";
CREATE EXTENSION IF NOT EXISTS "pgrouting";
GRANT CONNECT, TEMP ON DATABASE "gridwarden" TO "gridwarden_app";
EOSQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname gridwarden_test <<'EOSQL'
CREATE EXTENSION IF NOT EXISTS "postgis";
CREATE EXTENSION IF NOT EXISTS "pgrouting";
GRANT CONNECT, TEMP ON DATABASE "gridwarden_test" TO "gridwarden_app";
EOSQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname gridwarden_bench <<'EOSQL'
CREATE EXTENSION IF NOT EXISTS "postgis";
CREATE EXTENSION IF NOT EXISTS "pgrouting";
GRANT CONNECT, TEMP ON DATABASE "gridwarden_bench" TO "gridwarden_app";
EOSQL
