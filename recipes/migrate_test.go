//go:build linux

package recipes_test

import (
	"database/sql"
	"os"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database/redshift"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigrateCloseClosesDB relies on golang-migrate's redshift driver
// closing the *sql.DB given to WithInstance when the Migrate is closed
// (Redshift.Close), as doc.go says, and on a migration file of two
// statements running whole (pgx's Exec without arguments).
func TestMigrateCloseClosesDB(t *testing.T) {
	db, err := sql.Open("redshift-ka", os.Getenv(dsnEnv))
	require.NoError(t, err)
	defer db.Close()
	target, err := redshift.WithInstance(db, &redshift.Config{MigrationsTable: "close_test_migrations"})
	require.NoError(t, err)
	source, err := iofs.New(migrations, "migrations")
	require.NoError(t, err)
	m, err := migrate.NewWithInstance("iofs", source, "redshift", target)
	require.NoError(t, err)

	require.NoError(t, m.Steps(1))
	var comment sql.NullString
	require.NoError(t, db.QueryRow(`SELECT obj_description('loads'::regclass, 'pg_class')`).Scan(&comment))
	assert.Equal(t, "one row per load", comment.String, "the second statement of 1_create_loads.up.sql")
	require.NoError(t, m.Down())

	srcErr, dbErr := m.Close()
	require.NoError(t, srcErr)
	require.NoError(t, dbErr)
	assert.ErrorContains(t, db.Ping(), "sql: database is closed")
}
