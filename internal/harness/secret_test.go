//go:build linux

package harness

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLeaks: Leaks finds the password in each form a DSN writes it and
// each distinctive piece of it, and nothing in text without it.
func TestLeaks(t *testing.T) {
	pw, err := hostilePassword()
	require.NoError(t, err)
	p := &Postgres{Host: "127.0.0.1", Port: 6543, User: "postgres", Password: pw, Database: "postgres"}
	fields := strings.Fields(pw)
	require.Len(t, fields, 3)
	for _, tc := range []struct{ name, s string }{
		{"raw", "error: " + pw + "!"},
		{"url", p.URL("")},
		{"key=value", p.KeyValue("")},
		{"odbc", p.ODBC("")},
		{"jdbc", p.JDBC("")},
		{"query escaped", "password=" + url.QueryEscape(pw)},
		{"first word", "near " + fields[0]},
		{"second word, cut at the quote", strings.Trim(fields[1], `'"`)},
		{"the specials", "at " + hostileSpecials},
		{"the last hex piece", "x" + strings.TrimPrefix(fields[2], hostileSpecials)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.NotEmpty(t, p.Leaks(tc.s))
		})
	}
	for _, s := range []string{
		"",
		strings.ReplaceAll(p.URL(""), url.UserPassword("", pw).String()[1:], "xxxxx"),
		"host=127.0.0.1 port=6543 password=xxxxx",
	} {
		assert.Empty(t, p.Leaks(s), s)
	}
	assert.NotEmpty(t, (&Postgres{}).Leaks("anything"), "no password: a check against nothing must fail")
	assert.NotContains(t, p.redact(p.URL("")+" "+p.KeyValue("")+" "+p.ODBC("")), fields[0])
}
