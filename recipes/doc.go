// Package recipes shows redshift-ka's *sql.DB, or its pgx configuration,
// under the libraries Go programs use on top of database/sql: sqlx,
// golang-migrate, sqlc and ent. Each recipe is an example that runs, in
// this package's tests, against a PostgreSQL server the tests start.
//
// It is a module of its own, so that the driver's module does not require
// these libraries. Copy a recipe; do not import this package.
//
// # sqlx
//
// sqlx picks its placeholder style by driver name and does not know
// "redshift-ka", so [github.com/jmoiron/sqlx.DB.Rebind] and NamedExec would write "?", which
// the server refuses. Register the name once, before sqlx.Connect:
//
//	sqlx.BindDriver("redshift-ka", sqlx.DOLLAR) // and "redshift-ka-pq" for lib/pq
//
// The driver does not call it: that would make every program link sqlx.
// sqlx.NewDb(db, "pgx") on an opened *sql.DB works as well.
//
// # golang-migrate
//
// Hand the *sql.DB to the redshift database driver's WithInstance; its
// Open would dial with lib/pq and no keep-alive keys. Its Lock is held in
// this process only (Redshift has no advisory locks): run one migrator at
// a time. Closing the *migrate.Migrate closes the *sql.DB too.
//
// # sqlc
//
// sqlc's database/sql code takes the *sql.DB, its pgx/v5 code a pgxpool
// from
// [github.com/redshift-ka/redshift-ka/driver.ParsePoolConfig]. The generated packages under sqlc/ are
// committed as sqlc v1.31.1 wrote them from sqlc/sqlc.yaml; CI does not run
// sqlc. sqlc parses the schema with PostgreSQL's grammar, so give it the
// tables without Redshift's DISTKEY, SORTKEY and ENCODE.
//
// # ent
//
// entsql.OpenDB(dialect.Postgres, db) makes an ent driver of the *sql.DB,
// for ent's query builder (shown here, without code generation) or for a
// generated client: ent.NewClient(ent.Driver(drv)).
//
// # What Redshift refuses
//
// Redshift's INSERT has no RETURNING clause and no ON CONFLICT, and its COPY
// reads Amazon S3 and other sources on the server, never the client
// (COPY ... FROM STDIN). For these libraries that means:
//
//   - ent: a generated Create reads the new id back with RETURNING unless
//     the id is set (SetID); CreateBulk and upserts always use it.
//   - sqlc: no :one or :many on INSERT ... RETURNING, and no :copyfrom; use
//     :exec or :execrows.
//   - sqlx: no Get or QueryRowx on INSERT ... RETURNING; NamedExec with a
//     slice writes one multi-row INSERT, which Redshift takes.
//   - pgx's CopyFrom and lib/pq's CopyIn: load with COPY from S3 instead.
//
// Sources: Amazon Redshift Database Developer Guide, "INSERT" and "COPY".
package recipes
