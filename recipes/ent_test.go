//go:build linux

package recipes_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
	"entgo.io/ent/schema/field"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEntCreateReturning relies on sqlgraph.CreateNode, which ent's
// generated Create calls, reading the new id back with RETURNING on
// PostgreSQL unless the id is set, and sqlgraph.BatchCreate (CreateBulk)
// always: what doc.go says Redshift refuses.
func TestEntCreateReturning(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("redshift-ka", os.Getenv(dsnEnv))
	require.NoError(t, err)
	defer db.Close()
	var sent []string
	drv := dialect.DebugWithContext(entsql.OpenDB(dialect.Postgres, db), func(_ context.Context, v ...any) {
		sent = append(sent, fmt.Sprint(v...))
	})
	require.NoError(t, drv.Exec(ctx, `CREATE TABLE ent_users (id bigserial PRIMARY KEY, name text)`, []any{}, nil))
	defer drv.Exec(ctx, `DROP TABLE ent_users`, []any{}, nil)

	spec := func(id any) *sqlgraph.CreateSpec {
		return &sqlgraph.CreateSpec{
			Table:  "ent_users",
			ID:     &sqlgraph.FieldSpec{Column: "id", Type: field.TypeInt64, Value: id},
			Fields: []*sqlgraph.FieldSpec{{Column: "name", Type: field.TypeString, Value: "ann"}},
		}
	}
	for _, c := range []struct {
		name      string
		create    func() error
		returning bool
	}{
		{"Create", func() error { return sqlgraph.CreateNode(ctx, drv, spec(nil)) }, true},
		{"Create with SetID", func() error { return sqlgraph.CreateNode(ctx, drv, spec(int64(100))) }, false},
		{"CreateBulk with SetID", func() error {
			return sqlgraph.BatchCreate(ctx, drv, &sqlgraph.BatchCreateSpec{Nodes: []*sqlgraph.CreateSpec{spec(int64(101)), spec(int64(102))}})
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sent = nil
			require.NoError(t, c.create())
			require.Len(t, sent, 1)
			if c.returning {
				assert.Contains(t, sent[0], "RETURNING")
			} else {
				assert.NotContains(t, sent[0], "RETURNING")
			}
		})
	}
}
