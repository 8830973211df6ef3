package dsnparse

import (
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
				if s, ok := Owned(key); !ok || s != spec.Setting {
					t.Errorf("Owned(%q) = %v, %v; want %v", key, s, ok, spec.Setting)
				}
			}
			// U+212A KELVIN SIGN folds to 'k' in Unicode, not in DSN keys.
			kelvin := strings.Replace(strings.ToLower(name), "k", "\u212a", 1)
			for _, key := range []string{name + "x", name[1:], kelvin, strings.ReplaceAll(name, "_", "-")} {
				if _, ok := Owned(key); ok && key != name {
					t.Errorf("Owned(%q) = true", key)
				}
			}
		}
	}
}

// plainURLs are URLs for plainURL, which spares url.Parse only those it
// accepts, with what url.Parse says of each.
var plainURLs = []struct {
	dsn           string
	plain, parses bool
}{
	{"postgres://etl:s3cret@cluster.abc.us-east-1.redshift.amazonaws.com:5439/dev?sslmode=require&KeepAlivesIdle=200", true, true},
	{"postgresql://h/db", true, true},
	{"postgres://u:p!$&'()*+,;=:@x@h1:5432,h2:5433/db?a=%zz#frag", true, true},
	{"postgres://h:/db", true, true},
	{"postgres://", true, true},
	{" postgres://h/db", false, false},        // no scheme
	{"postgres://h:5x/db", false, false},      // port
	{"postgres://u%zz@h/db", false, false},    // escape
	{"postgres://u%41@h/db", false, true},     // plainURL leaves escapes to url.Parse
	{"postgres://[::1]:5432/db", false, true}, // and brackets
	{"postgres://h/d%2Fb", false, true},       // and escapes in the path
	{"postgres://h/db#%zz", false, false},     // escape in the fragment
	{"postgres://h/db\x7f", false, false},     // control byte
	{"postgres://u\"@h/db", false, false},     // userinfo
	{"postgres://h h/db", false, false},       // host
	{"Postgres://h/db", false, true},          // not the lower-case scheme
}

func TestPlainURL(t *testing.T) {
	for _, tc := range plainURLs {
		if got := plainURL(tc.dsn); got != tc.plain {
			t.Errorf("plainURL(%q) = %v, want %v", tc.dsn, got, tc.plain)
		}
		if _, err := url.Parse(tc.dsn); (err == nil) != tc.parses {
			t.Errorf("url.Parse(%q) = %v, want it to accept: %v", tc.dsn, err, tc.parses)
		}
	}
}
