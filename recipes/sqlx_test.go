//go:build linux

package recipes_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bindAtStart is sqlx's placeholder style for "redshift-ka" before any
// test or example ran: what a program gets that registers nothing.
var bindAtStart = sqlx.BindType("redshift-ka")

// TestSqlxNeedsBindDriver relies on sqlx not knowing "redshift-ka" (its
// defaultBinds in bind.go) and on the driver not registering it: then
// Rebind and NamedExec write "?", which the server refuses. If sqlx learns
// the name, this fails, and the BindDriver advice in doc.go can go.
func TestSqlxNeedsBindDriver(t *testing.T) {
	require.Equal(t, sqlx.UNKNOWN, bindAtStart, "sqlx.BindType(\"redshift-ka\")")
	db, err := sqlx.Connect("redshift-ka", os.Getenv(dsnEnv))
	require.NoError(t, err)
	defer db.Close()

	query := db.Rebind(`SELECT 1 WHERE 1 > ?`)
	assert.Equal(t, `SELECT 1 WHERE 1 > ?`, query, "Rebind with the bind type %d", sqlx.BindType("redshift-ka"))
	var n []int
	assertSyntaxError(t, db.Select(&n, query, 0))

	_, err = db.NamedExec(`SELECT :n`, map[string]any{"n": 1})
	assertSyntaxError(t, err)
}

// assertSyntaxError asserts err is PostgreSQL's syntax_error (42601).
func assertSyntaxError(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	if assert.ErrorAs(t, err, &pgErr) {
		assert.Equal(t, "42601", pgErr.Code, "%v", err)
	}
}
