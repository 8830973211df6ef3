CREATE TABLE loads (
	id bigint NOT NULL,
	name varchar(64) NOT NULL,
	loaded_at timestamp
);
COMMENT ON TABLE loads IS 'one row per load';
