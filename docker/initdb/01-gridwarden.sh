#!/bin/sh
# Run once by the postgres image on an empty data volume (docker-compose.yml, service db).
# Mirrors what ./gw sets up locally: an owner role (migrations), an application role (DML only,
# granted by the migrations), and the demo, test and benchmark databases with PostGIS and pgRouting.
# The role passwords come from the environment (GW_DB_OWNER_PASSWORD, GW_DB_APP_PASSWORD); there is
# no default. They reach psql as variables, never in the SQL text of this file.
set -e
: "${GW_DB_OWNER_PASSWORD:?GW_DB_OWNER_PASSWORD is not set}"
: "${GW_DB_APP_PASSWORD:?GW_DB_APP_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$GW_DB_OWNER_PASSWORD" -v app_password="$GW_DB_APP_PASSWORD" <<'EOSQL'
CREATE ROLE gridwarden_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE gridwarden_app LOGIN PASSWORD :'app_password';
CREATE DATABASE gridwarden OWNER gridwarden_owner;
CREATE DATABASE gridwarden_test OWNER gridwarden_owner;
CREATE DATABASE gridwarden_bench OWNER gridwarden_owner;
EOSQL

for db in gridwarden gridwarden_test gridwarden_bench; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db" <<EOSQL
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
GRANT CONNECT, TEMP ON DATABASE $db TO gridwarden_app;
EOSQL
done
