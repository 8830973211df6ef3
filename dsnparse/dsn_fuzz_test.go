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
	for _, dsn := range nativeDSNs(hostileSecret) {
		f.Add(dsn)
	}
	for _, sc := range samlCases(hostileSecret) {
		for _, dsn := range inForms(true, sc.user, sc.password, sc.pairs...) {
			f.Add(dsn)
		}
	}
	f.Add("Server=" + samlHost + ";plugin_name=IdpTokenAuthPlugin;AccessKeyID=A;SecretAccessKey=" + hostileSecret + ";SessionToken=T")
	f.Add("postgres://h/dev?credentials_provider=BrowserIdcAuthPlugin&issuer_url=https://i&idc_region=us-east-1&listen_port=8080")
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
		if again.IAM != nil {
			t.Fatalf("IAM keys survive in %q: %v", d.Rest, again.IAM)
		}
		if again.Native != nil {
			t.Fatalf("native login keys survive in %q: %v", d.Rest, again.Native)
		}
		if d.Native != nil {
			tok := d.Native.Token
			// A short token, or one written twice (once as another key's
			// value), may show for what else it is.
			if len(tok) >= 4 && strings.Count(dsn, tok) == 1 && strings.Contains(Redact(dsn), tok) {
				t.Fatalf("Redact(%q) shows the token", dsn)
			}
		}
		for _, k := range again.Config.Ignored {
			if claimed(k.Key) {
				t.Fatalf("key %q of ours survives in %q", k, d.Rest)
			}
		}
		if again.Rest != d.Rest {
			t.Fatalf("stripping twice changed %q to %q", d.Rest, again.Rest)
		}
		if d.IAM != nil {
			iamEncrypts(t, d)
			// A secret written once, long enough not to be something else
			// too, never shows in Redact's output.
			s := d.IAM.SAML
			for _, secret := range []string{s.Password, s.ClientSecret, s.Assertion} {
				if len(secret) >= 4 && strings.Count(dsn, secret) == 1 && strings.Contains(Redact(dsn), secret) {
					t.Fatalf("Redact(%q) shows a secret of the SAML login", dsn)
				}
			}
		}
		switch d.Form {
		case FormURL:
			noOwnedKeyForPQ(t, d.Rest)
			samePgxView(t, dsn, withoutLookupHost(t, d))
		case FormKeyValue:
			samePgxView(t, dsn, withoutLookupHost(t, d))
		case FormJDBC:
			pgxReadsJDBC(t, dsn, d)
		}
	})
}

// pgxReadsJDBC checks that pgx reads the key=value DSN a JDBC URL becomes,
// with the host, port, database, user and password the JDBC driver would
// use, unless the values handed on are ones pgx refuses (sslmode=bad).
func pgxReadsJDBC(t *testing.T, dsn string, d *DSN) {
	if again, err := Parse(d.Rest); err != nil || again.Form != FormKeyValue {
		t.Fatalf("%q becomes %q, not a key=value DSN: %v", dsn, d.Rest, err)
	}
	cfg, err := pgconn.ParseConfig(d.Rest)
	if err != nil {
		for _, k := range []string{"sslmode", "connect_timeout", "sslrootcert", "sslcert", "sslkey", "sslpassword", "options", "sslinline"} {
			if strings.Contains(d.Rest, k+"=") {
				return
			}
		}
		t.Fatalf("pgx cannot read %q, made of %q: %v", d.Rest, dsn, err)
	}
	u, err := splitJDBC(strings.TrimRight(dsn, " \t\n\v\f\r"), false)
	if err != nil {
		t.Fatalf("Parse reads %q, splitJDBC does not: %v", dsn, err)
	}
	want := map[string]string{} // libpq key: value, from the JDBC URL's own parameters
	for _, p := range u.params {
		if v, err := url.QueryUnescape(p.value); err == nil {
			if libpq := jdbcKeys[asciiLower(strings.TrimSpace(p.key))]; libpq != "" && v != "" {
				want[libpq] = v
			}
		}
	}
	if pw, ok := want["password"]; ok && cfg.Password != pw {
		t.Fatalf("pgx reads password %q from %q, JDBC %q from %q", cfg.Password, d.Rest, pw, dsn)
	}
	if user, ok := want["user"]; ok && cfg.User != user {
		t.Fatalf("pgx reads user %q from %q, JDBC %q from %q", cfg.User, d.Rest, user, dsn)
	}
}

// noOwnedKeyForPQ checks that lib/pq, which reads a URL with url.Parse
// and its own rules for keys, finds none of ours in rest.
func noOwnedKeyForPQ(t *testing.T, rest string) {
	kv, err := pq.ParseURL(rest)
	if err != nil {
		return
	}
	d, err := Parse(kv)
	if err != nil {
		return
	}
	if d.Config.Keys != (KeyNames{}) || d.IAM != nil {
		t.Fatalf("lib/pq reads keys of ours (%v, %v) in the stripped %q", d.Config.Keys, d.IAM, rest)
	}
	for _, k := range d.Config.Ignored {
		if claimed(k.Key) {
			t.Fatalf("lib/pq reads key %q of ours in the stripped %q", k, rest)
		}
	}
}

// iamEncrypts checks that pgx reads an IAM DSN's Rest as a connection that
// is always encrypted, and, when the DSN has no host, that it goes to the
// host put in for the endpoint lookup: the issued password never goes in
// plain text, nor to another server.
func iamEncrypts(t *testing.T, d *DSN) {
	cfg, err := pgconn.ParseConfig(d.Rest)
	if err != nil {
		return // pgx refuses it: nothing is sent
	}
	// A Unix socket (an empty host is pgx's default one) never has TLS,
	// and never leaves the machine.
	socket := func(host string, port uint16) bool {
		network, _ := pgconn.NetworkAddress(host, port)
		return network == "unix"
	}
	if cfg.TLSConfig == nil && !socket(cfg.Host, cfg.Port) {
		t.Fatalf("IAM DSN %q: pgx reads no TLS to %q", d.Rest, cfg.Host)
	}
	for _, fb := range cfg.Fallbacks {
		if fb.TLSConfig == nil && !socket(fb.Host, fb.Port) {
			t.Fatalf("IAM DSN %q: pgx may fall back to plain text to %q", d.Rest, fb.Host)
		}
	}
	if d.IAM.LookupEndpoint && cfg.Host != d.IAM.LookupHost() {
		t.Fatalf("IAM DSN %q without a host: pgx reads host %q, not %q", d.Rest, cfg.Host, d.IAM.LookupHost())
	}
}

// withoutLookupHost returns d.Rest without the host that stands for the
// endpoint an IAM login looks up, which must come first in the query or
// the key=value list (after an sslmode the login added), where nothing
// before it can swallow it.
func withoutLookupHost(t *testing.T, d *DSN) string {
	if d.IAM == nil || !d.IAM.LookupEndpoint {
		return d.Rest
	}
	h := d.IAM.LookupHost()
	if d.Form == FormURL {
		tok := "host=" + url.QueryEscape(h)
		for _, prefix := range []string{"?", "?" + iamDefaultTLS + "&"} {
			if i := strings.Index(d.Rest, prefix+tok); i >= 0 && !strings.Contains(d.Rest[:i], "?") {
				after := d.Rest[i+len(prefix)+len(tok):]
				if prefix == "?" {
					return d.Rest[:i] + strings.Replace(after, "&", "?", 1)
				}
				return d.Rest[:i] + "?" + iamDefaultTLS + after
			}
		}
	} else {
		tok := "host=" + libpqValue(h)
		for _, prefix := range []string{"", iamDefaultTLS + " "} {
			if rest, ok := strings.CutPrefix(d.Rest, prefix+tok); ok {
				return prefix + strings.TrimPrefix(rest, " ")
			}
		}
	}
	t.Fatalf("no lookup host first in %q", d.Rest)
	return ""
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
	// A URL's key is also ours if lib/pq would read it as one of ours: it
	// unescapes the key as written (a '+' is a space, %2B a '+') and trims
	// it. pgxKey is how pgx reads that key.
	forPQ := map[string]bool{}
	if _, query, ok := strings.Cut(dsn, "?"); ok && strings.HasPrefix(dsn, "postgres") {
		for _, kv := range strings.Split(query, "&") {
			raw, _, _ := strings.Cut(kv, "=")
			if k, err := url.QueryUnescape(raw); err == nil && claimed(strings.TrimSpace(k)) {
				if pgxKey, err := url.PathUnescape(raw); err == nil { // pgx keeps a '+'
					forPQ[pgxKey] = true
				}
			}
		}
	}
	want := map[string]string{}
	for k, v := range in.RuntimeParams {
		// The key as pgx read it, a '+' taken for a space and trimmed.
		plus := claimed(strings.TrimSpace(strings.ReplaceAll(k, "+", " ")))
		if !claimed(k) && !forPQ[k] && !(plus && !strings.Contains(strings.ToLower(dsn), "%2b")) {
			want[k] = v
		}
	}
	if in.Host != out.Host || in.Port != out.Port || in.Database != out.Database ||
		in.User != out.User || in.Password != out.Password || !maps.Equal(want, out.RuntimeParams) {
		t.Fatalf("pgx reads %q differently once stripped to %q", dsn, rest)
	}
}
