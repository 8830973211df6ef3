//go:build linux

package harness

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// redacted stands for the password in logs and errors.
const redacted = "xxxxx"

// redact masks the password in s, in every form it may take.
func (p *Postgres) redact(s string) string {
	for _, f := range p.secretForms() {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

// hostileSpecials is the run of characters in every password
// [StartPostgres] makes that each DSN form must quote, escape or brace.
const hostileSpecials = `#;&?%={}`

// hostilePassword returns a new random password that holds a space, both
// quotes and every character of hostileSpecials, around three pieces of 8
// random hex digits, such as 1f0e9c2a '5d4b3a21" #;&?%={}9e8d7c6b. Each piece
// is distinctive, so a fragment of the password in some output (cut at a
// space or a quote by a parser) can be found.
func hostilePassword() (string, error) {
	var h [3]string
	for i := range h {
		var err error
		if h[i], err = randomHex(4); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf(`%s '%s" %s%s`, h[0], h[1], hostileSpecials, h[2]), nil
}

// secretForms returns the password as each DSN form writes it (raw,
// percent-encoded in a URL's user info, path or query, quoted for
// key=value, braced for ODBC), longest first.
func (p *Postgres) secretForms() []string {
	if p.Password == "" {
		return nil
	}
	forms := []string{
		p.Password,
		strings.TrimPrefix(url.UserPassword("", p.Password).String(), ":"),
		url.PathEscape(p.Password),
		url.QueryEscape(p.Password),
		kvQuote(p.Password),
		ODBCQuote(p.Password),
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return forms
}

// secretPieces returns what no output may hold: the password in each form
// it is written in ([Postgres.secretForms]) and its distinctive pieces,
// each random hex piece and the run of special characters, which a parser
// that cut the password at a space or a quote would show.
func (p *Postgres) secretPieces() []string {
	pieces := p.secretForms()
	for _, f := range strings.FieldsFunc(p.Password, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) {
		if len(f) >= 8 {
			pieces = append(pieces, f)
		}
	}
	if strings.Contains(p.Password, hostileSpecials) {
		pieces = append(pieces, hostileSpecials)
	}
	return pieces
}

// Leaks returns every form and piece of the password (see
// [Postgres.Password]) that s holds: the password raw, percent-encoded,
// quoted or braced, a random hex piece of it, or its run of special
// characters. Nil means s shows nothing of the password. It fails loudly
// on a server without a password: a check against nothing cannot fail.
func (p *Postgres) Leaks(s string) []string {
	if p.Password == "" {
		return []string{"(the server has no password: nothing to look for)"}
	}
	var found []string
	for _, piece := range p.secretPieces() {
		if strings.Contains(s, piece) {
			found = append(found, piece)
		}
	}
	return found
}

// NoLeak fails the test if s shows the password of p in any form or any
// piece of it ([Postgres.Leaks]); what names where s came from.
func NoLeak(t T, p *Postgres, what, s string) {
	t.Helper()
	if found := p.Leaks(s); len(found) > 0 {
		t.Errorf("%s shows the password (%q):\n%s", what, found, s)
	}
}
