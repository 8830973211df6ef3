-- name: CreateLoad :exec
INSERT INTO sqlc_loads (id, name, row_count) VALUES ($1, $2, $3);

-- name: GetLoad :one
SELECT id, name, row_count FROM sqlc_loads
WHERE id = $1;

-- name: ListLoads :many
SELECT id, name, row_count FROM sqlc_loads
WHERE row_count > @min_rows
ORDER BY id;

-- name: DeleteLoads :execrows
DELETE FROM sqlc_loads
WHERE row_count <= @max_rows;
