package dsnparse

import (
	"testing"
)

// FuzzParse checks, for any input, that Parse does not panic and that what
// it hands on is clean: no owned key survives, and parsing the result again
// changes nothing.
func FuzzParse(f *testing.F) {
	for _, tc := range testDSNs {
		f.Add(tc.dsn)
	}
	for _, tc := range badDSNs {
		f.Add(tc.dsn)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		d, err := Parse(dsn)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		again, err := Parse(d.Rest)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", dsn, d.Rest, err)
		}
		if len(again.Config.Keys) != 0 {
			t.Fatalf("owned keys survive in %q: %v", d.Rest, again.Config.Keys)
		}
		if again.Rest != d.Rest {
			t.Fatalf("stripping twice changed %q to %q", d.Rest, again.Rest)
		}
	})
}
