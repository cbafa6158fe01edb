-- A read-only group role for analysts and dashboards: NOLOGIN, so nobody signs in as it; a person or a Grafana
-- gets their own login that is a member of it (docs/sink.md: "Read-only access").
-- Roles belong to the whole server, not to this database, so another database migrated on the same server (or a
-- DBA) may have created it already: then it is only granted to. Creating it needs CREATEROLE; without that, a DBA
-- creates it first with: CREATE ROLE fleetpulse_reader NOLOGIN;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fleetpulse_reader') THEN
        CREATE ROLE fleetpulse_reader NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO fleetpulse_reader', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO fleetpulse_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO fleetpulse_reader;

-- Partitions, tables and views the sink's role creates later (the partition manager every pass, later
-- migrations) are readable by the group as well. A query on a partitioned parent only checks the parent's
-- privileges; this covers reading one partition directly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO fleetpulse_reader;
