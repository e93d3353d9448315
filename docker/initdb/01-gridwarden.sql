-- Run once by the postgres image on an empty data volume (docker-compose.yml, service db).
-- Mirrors what ./gw sets up locally: an owner role (migrations), an application role
-- (DML only, granted by the migrations), and a demo and a test database with PostGIS
-- and pgRouting.
CREATE ROLE gridwarden_owner LOGIN PASSWORD 'gridwarden_owner_dev';
CREATE ROLE gridwarden_app LOGIN PASSWORD 'gridwarden_app_dev';

CREATE DATABASE gridwarden OWNER gridwarden_owner;
CREATE DATABASE gridwarden_test OWNER gridwarden_owner;

\connect gridwarden
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
GRANT CONNECT, TEMP ON DATABASE gridwarden TO gridwarden_app;

\connect gridwarden_test
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
GRANT CONNECT, TEMP ON DATABASE gridwarden_test TO gridwarden_app;
