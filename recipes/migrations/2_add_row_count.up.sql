ALTER TABLE loads ADD COLUMN row_count bigint DEFAULT 0;
