package dsnparse

import (
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"
)

// FuzzParse checks, for any input, that Parse does not panic and that what
// it hands on is clean: no owned key survives, and parsing the result again
// changes nothing. It also checks that a URL url.Parse refuses, as lib/pq
// would, is refused.
func FuzzParse(f *testing.F) {
	for _, tc := range testDSNs {
		f.Add(tc.dsn)
	}
	for _, tc := range badDSNs {
		f.Add(tc.dsn)
	}
	for _, tc := range urlChecks {
		f.Add(tc.dsn)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		d, err := Parse(dsn)
		if _, uerr := url.Parse(dsn); err == nil && d.Form == FormURL && uerr != nil {
			t.Fatalf("url.Parse refuses %q, Parse reads it: %v", dsn, uerr)
		}
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
		if again.Config.Keys != (KeyNames{}) {
			t.Fatalf("owned keys survive in %q: %v", d.Rest, again.Config.Keys)
		}
		if again.Rest != d.Rest {
			t.Fatalf("stripping twice changed %q to %q", d.Rest, again.Rest)
		}
		if d.Form == FormURL {
			noOwnedKeyForPQ(t, d.Rest)
		}
		if d.Form != FormODBC {
			samePgxView(t, dsn, d.Rest)
		}
	})
}

// noOwnedKeyForPQ checks that lib/pq, which reads a URL with url.Parse
// and its own rules for keys, finds none of ours in rest.
func noOwnedKeyForPQ(t *testing.T, rest string) {
	kv, err := pq.ParseURL(rest)
	if err != nil {
		return
	}
	if d, err := Parse(kv); err == nil && d.Config.Keys != (KeyNames{}) {
		t.Fatalf("lib/pq reads keys of ours (%v) in the stripped %q", d.Config.Keys, rest)
	}
}

// samePgxView checks that pgx reads from rest what it reads from dsn, less
// the keys redshift-ka owns: nothing else was lost or changed.
func samePgxView(t *testing.T, dsn, rest string) {
	in, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return // pgx refuses the input itself
	}
	out, err := pgconn.ParseConfig(rest)
	if err != nil {
		t.Fatalf("pgx reads %q but not the stripped %q: %v", dsn, rest, err)
	}
	want := map[string]string{}
	for k, v := range in.RuntimeParams {
		// A key is also ours if lib/pq would read it as one of ours: it
		// takes a '+' for a space, and trims keys.
		_, ours := owned(k)
		_, forPQ := owned(strings.TrimSpace(strings.ReplaceAll(k, "+", " ")))
		if !ours && !forPQ {
			want[k] = v
		}
	}
	if in.Host != out.Host || in.Port != out.Port || in.Database != out.Database ||
		in.User != out.User || in.Password != out.Password || !maps.Equal(want, out.RuntimeParams) {
		t.Fatalf("pgx reads %q differently once stripped to %q", dsn, rest)
	}
}
