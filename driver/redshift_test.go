package driver

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadAsText: a Redshift connection's type map asks for text for
// NUMERIC, INTERVAL and the rest, and keeps binary for the known list; a
// map left alone (PostgreSQL) keeps pgx's binary NUMERIC.
func TestReadAsText(t *testing.T) {
	pg := pgtype.NewMap()
	rs := pgtype.NewMap()
	readAsText(rs)
	readAsText(rs) // twice changes nothing

	for _, oid := range []uint32{pgtype.NumericOID, pgtype.NumericArrayOID, pgtype.IntervalOID, pgtype.Int4ArrayOID, pgtype.UUIDOID, pgtype.ByteaOID, pgtype.DateOID, pgtype.TimeOID} {
		assert.Equal(t, int16(pgtype.BinaryFormatCode), pg.FormatCodeForOID(oid), "PostgreSQL, OID %d", oid)
		assert.Equal(t, int16(pgtype.TextFormatCode), rs.FormatCodeForOID(oid), "Redshift, OID %d", oid)
	}
	for oid := range binaryOnRedshift { // pgx's default, binary or not
		assert.Equal(t, pg.FormatCodeForOID(oid), rs.FormatCodeForOID(oid), "OID %d", oid)
	}
	for _, oid := range []uint32{pgtype.Int8OID, pgtype.Float8OID, pgtype.TimestamptzOID} {
		assert.Equal(t, int16(pgtype.BinaryFormatCode), rs.FormatCodeForOID(oid), "Redshift, OID %d", oid)
	}
	// Nothing pgx would read in binary is left out, whatever pgx's version.
	for oid := uint32(1); oid < builtinOIDs; oid++ {
		if rs.FormatCodeForOID(oid) == pgtype.BinaryFormatCode {
			assert.True(t, binaryOnRedshift[oid], "OID %d read in binary on Redshift", oid)
		}
	}

	// The text form still scans into what the binary one did.
	var n pgtype.Numeric
	require.NoError(t, rs.Scan(pgtype.NumericOID, pgtype.TextFormatCode, []byte("-12.34"), &n))
	f, err := n.Float64Value()
	require.NoError(t, err)
	assert.Equal(t, -12.34, f.Float64)
	// A binary value, which only a program's own result formats ask for, is
	// refused, whatever it is scanned into.
	for _, dst := range []any{&n, new(any), new(float64)} {
		err = rs.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, []byte{0, 0, 0, 0, 0, 0, 4, 210}, dst)
		assert.ErrorContains(t, err, "binary", "%T", dst)
	}
	nt, _ := rs.TypeForOID(pgtype.NumericOID)
	_, err = nt.Codec.DecodeValue(rs, pgtype.NumericOID, pgtype.BinaryFormatCode, []byte{0, 0, 0, 0})
	assert.ErrorContains(t, err, "numeric (OID 1700) asked for in binary")
	require.NoError(t, pg.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, []byte{0, 0, 0, 0, 0, 0, 0, 0}, &n), "PostgreSQL")
	// And parameters are sent as text.
	buf, err := rs.Encode(pgtype.NumericOID, rs.FormatCodeForOID(pgtype.NumericOID), 12.5, nil)
	require.NoError(t, err)
	assert.Equal(t, "12.5", string(buf))
}
