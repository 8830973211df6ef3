ALTER TABLE loads DROP COLUMN row_count;
