package dsnparse

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestOwnedCase: every owned key of the spec table is found in any case,
// and a near miss is not.
func TestOwnedCase(t *testing.T) {
	for _, spec := range Keys() {
		for _, name := range spec.Names {
			for _, key := range []string{name, strings.ToUpper(name), strings.ToLower(name)} {
				if s, ok := owned(key); !ok || s != spec.Setting {
					t.Errorf("owned(%q) = %v, %v; want %v", key, s, ok, spec.Setting)
				}
			}
			// U+212A KELVIN SIGN folds to 'k' in Unicode, not in DSN keys.
			kelvin := strings.Replace(strings.ToLower(name), "k", "\u212a", 1)
			for _, key := range []string{name + "x", name[1:], kelvin, strings.ReplaceAll(name, "_", "-")} {
				if _, ok := owned(key); ok && key != name {
					t.Errorf("owned(%q) = true", key)
				}
			}
		}
	}
}

// urlChecks are URLs with what url.Parse, which lib/pq reads URLs with,
// says of each: Parse refuses what url.Parse refuses.
var urlChecks = []struct {
	dsn    string
	parses bool
}{
	{"postgres://etl:s3cret@cluster.abc.us-east-1.redshift.amazonaws.com:5439/dev?sslmode=require&KeepAlivesIdle=200", true},
	{"postgresql://h/db", true},
	{"postgres://u:p!$&'()*+,;=:@x@h1:5432,h2:5433/db?a=%zz#frag", true},
	{"postgres://h:/db", true},
	{"postgres://", true},
	{" postgres://h/db", false}, // no scheme
	{"postgres://h:5x/db", false},
	{"postgres://u%zz@h/db", false},
	{"postgres://u%41@h/db", true},
	{"postgres://[::1]:5432/db", true},
	{"postgres://h/d%2Fb", true},
	{"postgres://h/db#%zz", false},
	{"postgres://h/db\x7f", false},
	{"postgres://u\"@h/db", false},
	{"postgres://h h/db", false},
}

// TestURLParseRefusals: a URL that url.Parse refuses is refused, as
// malformed; one it accepts is read.
func TestURLParseRefusals(t *testing.T) {
	for _, tc := range urlChecks {
		if _, err := url.Parse(tc.dsn); (err == nil) != tc.parses {
			t.Errorf("url.Parse(%q) = %v, want it to accept: %v", tc.dsn, err, tc.parses)
		}
		d, err := Parse(tc.dsn)
		if tc.parses && (err != nil || d.Form != FormURL) {
			t.Errorf("Parse(%q) = %v, %v; want a URL", tc.dsn, d, err)
		}
		if !tc.parses && !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v; want ErrMalformed", tc.dsn, err)
		}
	}
}
