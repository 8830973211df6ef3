package driver

import (
	"maps"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/assert"
)

// TestBinaryOnRedshiftList: the types read in binary on Redshift are
// exactly these, each with its source in redshift.go. A type added to
// binaryOnRedshift fails here until it is added below too, with the
// source that shows Amazon's drivers read Redshift's binary form of it
// at the base protocol version (redshift_connector core.py
// _enable_protocol_based_conversion_funcs, the text branch, and the
// redshift_types table of utils/type_utils.py).
func TestBinaryOnRedshiftList(t *testing.T) {
	want := []uint32{
		pgtype.BoolOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.Float4OID, pgtype.Float8OID, pgtype.OIDOID,
		pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.QCharOID,
		pgtype.TimestampOID, pgtype.TimestamptzOID,
	}
	slices.Sort(want)
	assert.Equal(t, want, slices.Sorted(maps.Keys(binaryOnRedshift)))
	// DATE and TIME: binary only at client_protocol_version 2, which pgx
	// never asks for; NUMERIC: a scaled integer.
	for _, oid := range []uint32{pgtype.DateOID, pgtype.TimeOID, pgtype.NumericOID} {
		assert.False(t, binaryOnRedshift[oid], "OID %d", oid)
	}
}

// TestTextResults: the result formats pgx's database/sql adapter asks for
// lose, on Redshift, binary for the types not read in binary there; a map
// with nothing to change stays in place, and other arguments are left
// alone.
func TestTextResults(t *testing.T) {
	stdlibLike := pgx.QueryResultFormatsByOID{pgtype.BoolOID: 1, pgtype.DateOID: 1, pgtype.ByteaOID: 1, pgtype.Int4OID: 1, pgtype.TimestamptzOID: 1}
	for range 2 { // the second time from lastFormats
		args := []any{stdlibLike, 1}
		textResults(args)
		got := args[0].(pgx.QueryResultFormatsByOID)
		assert.Equal(t, pgx.QueryResultFormatsByOID{pgtype.BoolOID: 1, pgtype.DateOID: 0, pgtype.ByteaOID: 0, pgtype.Int4OID: 1, pgtype.TimestamptzOID: 1}, got)
		assert.Equal(t, int16(1), stdlibLike[pgtype.DateOID], "the caller's map was changed")
		assert.Equal(t, 1, args[1])
	}
	// The same map, changed by its owner since: copied again, not served
	// from lastFormats as it was.
	stdlibLike[pgtype.Int2OID] = 1
	stdlibLike[pgtype.TimeOID] = 1
	args := []any{stdlibLike}
	textResults(args)
	assert.Equal(t, pgx.QueryResultFormatsByOID{pgtype.BoolOID: 1, pgtype.DateOID: 0, pgtype.ByteaOID: 0, pgtype.Int4OID: 1, pgtype.TimestamptzOID: 1,
		pgtype.Int2OID: 1, pgtype.TimeOID: 0}, args[0])
	fine := pgx.QueryResultFormatsByOID{pgtype.Int8OID: 1, pgtype.DateOID: 0}
	args = []any{fine}
	textResults(args)
	assert.True(t, sameMap(fine, args[0].(pgx.QueryResultFormatsByOID)))
	args = []any{pgx.QueryResultFormats{1}, "x"}
	textResults(args)
	assert.Equal(t, []any{pgx.QueryResultFormats{1}, "x"}, args)
	textResults(nil)
}
