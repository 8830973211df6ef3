package dsnparse

import (
	"errors"
	"net/url"
	"strings"
)

// parseURL strips owned keys from the query of a postgres:// URL. The other
// query parameters are kept byte for byte, in their order, empty ones too.
//
// The query is all that follows the first '?', as pgx and libpq read it:
// they know no fragments, and a '#' is part of a query parameter (lib/pq,
// which reads URLs with url.Parse, ends the query at a '#'). A key is ours
// if it names one of ours as pgx reads keys or as lib/pq does.
func parseURL(dsn string) (*DSN, error) {
	if queryInUserinfo(dsn) {
		// pgx would take the '?' as part of the user info, lib/pq and we
		// as the start of the query: the two would not even agree on the
		// host. Checked first: url.Parse's complaint would not say why.
		return nil, malformed(FormURL, `a "?" before the "@" that ends the user info; write it as %3F`)
	}
	if !plainURL(dsn) {
		// lib/pq reads URLs with url.Parse: refuse what it refuses.
		if _, err := url.Parse(dsn); err != nil {
			return nil, malformed(FormURL, urlErrorText(err))
		}
	}
	base, query, hasQuery := strings.Cut(dsn, "?")
	var (
		c    collector
		rest strings.Builder
		sep  byte = '?' // before the next part kept
	)
	rest.Grow(len(dsn))
	rest.WriteString(base)
	for more := hasQuery; more; {
		var part string
		part, query, more = strings.Cut(query, "&")
		rawKey, rawValue, _ := strings.Cut(part, "=")
		key, err := uriDecode(rawKey)
		if err != nil {
			return nil, malformed(FormURL, "invalid %-escape in a query key")
		}
		s, owned := Owned(key)
		if !owned && (strings.IndexByte(rawKey, '+') >= 0 || strings.IndexByte(rawKey, '%') >= 0) {
			// lib/pq reads a '+' as a space and trims keys once unescaped:
			// "+KeepAlive" and "%20KeepAlive" are KeepAlive to it.
			if k, err := url.QueryUnescape(rawKey); err == nil {
				k = strings.TrimSpace(k)
				if s, owned = Owned(k); owned {
					key = k
				}
			}
		}
		if !owned {
			rest.WriteByte(sep)
			rest.WriteString(part)
			sep = '&'
			continue
		}
		value, err := uriDecode(rawValue)
		if err != nil {
			return nil, valueError(key, rawValue, ErrSyntax, "invalid %-escape in ")
		}
		if err := c.add(s, key, value); err != nil {
			return nil, err
		}
	}
	return &DSN{Form: FormURL, Config: c.cfg, Rest: rest.String()}, nil
}

// queryInUserinfo reports whether a '?' comes before the '@' that, for
// pgx and libpq, ends the user info: the first '@' before any '/'.
func queryInUserinfo(dsn string) bool {
	_, rest, _ := strings.Cut(dsn, "://")
	userinfo, _, found := strings.Cut(rest, "@")
	return found && strings.IndexByte(userinfo, '/') < 0 && strings.IndexByte(userinfo, '?') >= 0
}

// plainURL reports whether url.Parse, which lib/pq uses, surely
// accepts dsn, a URL that starts with its scheme: a quick look that spares
// most DSNs the cost of url.Parse. It wants no control bytes, no
// %-escapes outside the query, userinfo of the bytes url.Parse allows
// there, a host of letters, digits and "-._~,:" whose last ':' is followed
// by digits only, and no IPv6 brackets. False means only "ask url.Parse".
// FuzzParse checks that url.Parse accepts every DSN this accepts.
func plainURL(dsn string) bool {
	for i := 0; i < len(dsn); i++ {
		if urlBytes[dsn[i]]&urlControl != 0 {
			return false
		}
	}
	dsn, fragment, _ := strings.Cut(dsn, "#")
	dsn, _, _ = strings.Cut(dsn, "?") // the query is not checked
	rest, ok := strings.CutPrefix(dsn, "postgres://")
	if !ok {
		if rest, ok = strings.CutPrefix(dsn, "postgresql://"); !ok {
			return false
		}
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if strings.IndexByte(path, '%') >= 0 || strings.IndexByte(fragment, '%') >= 0 {
		return false
	}
	host := authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		host = authority[i+1:]
		for j := 0; j < i; j++ {
			if urlBytes[authority[j]]&urlUserinfo == 0 {
				return false
			}
		}
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !allDigits(host[i+1:]) {
		return false
	}
	for i := 0; i < len(host); i++ {
		if urlBytes[host[i]]&urlHost == 0 {
			return false
		}
	}
	return true
}

// Byte classes for plainURL.
const (
	urlControl  = 1 << iota // refused anywhere by url.Parse
	urlUserinfo             // allowed by url.Parse in userinfo, '%' left out
	urlHost                 // plain in a host name or a host list
)

// urlBytes holds the classes of every byte value.
var urlBytes = func() (c [256]uint8) {
	for b := 0; b < ' '; b++ {
		c[b] = urlControl
	}
	c[0x7f] = urlControl
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") {
		c[b] = urlUserinfo | urlHost
	}
	for _, b := range []byte("!$&'()*+,;=:@") {
		c[b] |= urlUserinfo
	}
	c[','] |= urlHost
	c[':'] |= urlHost
	return c
}()

// uriDecode reads a query key or value as pgx and libpq do: the spaces
// around it dropped, %-escapes decoded, a '+' left as it is.
func uriDecode(s string) (string, error) {
	s = strings.Trim(s, " ")
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	return url.PathUnescape(s)
}

// urlErrorText describes a url.Parse error without quoting the URL, which
// may hold a password.
func urlErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ee url.EscapeError
	if errors.As(err, &ee) {
		return "invalid %-escape"
	}
	// Quoted parts ("invalid port \":x\" after host") may be cut from a
	// password that holds a '/' or '#'; leave them out.
	msg := err.Error()
	if i, j := strings.IndexByte(msg, '"'), strings.LastIndexByte(msg, '"'); i >= 0 && j > i {
		msg = msg[:i] + "(withheld)" + msg[j+1:]
	}
	return msg
}
