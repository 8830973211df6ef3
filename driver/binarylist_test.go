package driver

import (
	"maps"
	"reflect"
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

// TestTextResults: the result formats of pgx's database/sql adapter ask,
// on Redshift, for text for the types not read in binary there, and
// stay as they are; a map of a program's own, and the other args, are
// left alone.
func TestTextResults(t *testing.T) {
	before := maps.Clone(sqlFormats)
	args := []any{sqlFormats, 1}
	textResults(args)
	got := args[0].(pgx.QueryResultFormatsByOID)
	assert.Len(t, got, len(sqlFormats))
	for oid := range sqlFormats {
		want := int16(pgtype.TextFormatCode)
		if binaryOnRedshift[oid] {
			want = pgtype.BinaryFormatCode
		}
		assert.Equal(t, want, got[oid], "OID %d", oid)
	}
	assert.Equal(t, int16(pgtype.TextFormatCode), got[pgtype.DateOID])
	assert.Equal(t, before, sqlFormats)
	assert.Equal(t, 1, args[1])

	own := pgx.QueryResultFormatsByOID{pgtype.Int8OID: 1, pgtype.DateOID: 1}
	args = []any{own}
	textResults(args)
	assert.Equal(t, reflect.ValueOf(own).UnsafePointer(), reflect.ValueOf(args[0]).UnsafePointer())
	assert.Equal(t, pgx.QueryResultFormatsByOID{pgtype.Int8OID: 1, pgtype.DateOID: 1}, own)
	args = []any{pgx.QueryResultFormats{1}, "x"}
	textResults(args)
	assert.Equal(t, []any{pgx.QueryResultFormats{1}, "x"}, args)
	textResults(nil)
}
