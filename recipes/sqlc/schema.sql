-- The table as sqlc sees it: PostgreSQL's grammar, so without Redshift's
-- DISTKEY, SORTKEY and ENCODE.
CREATE TABLE sqlc_loads (
    id bigint NOT NULL,
    name varchar(64) NOT NULL,
    row_count bigint NOT NULL
);
