package dsnparse

import (
	"errors"
	"net/url"
	"strings"
)

// parseURL strips owned keys from the query of a postgres:// URL. The other
// query parameters are kept byte for byte, in their order, empty ones too.
// A key is ours if it names one of ours as pgx reads keys or as lib/pq
// does.
func parseURL(dsn string) (*DSN, error) {
	base, params, err := splitURL(dsn, false)
	if err != nil {
		return nil, err
	}
	var (
		c    collector
		rest = base
		sep  = "?" // before the next part kept
	)
	c.host, c.user, c.dbname, c.password = urlHostUser(base)
	for _, p := range params {
		key, err := uriDecode(p.key)
		if err != nil {
			return nil, malformed(FormURL, "invalid %-escape in a query key")
		}
		if !claimed(key) && strings.ContainsAny(p.key, "+%") {
			// lib/pq reads a '+' as a space and trims keys once unescaped:
			// "+KeepAlive" and "%20KeepAlive" are KeepAlive to it.
			if k, err := url.QueryUnescape(p.key); err == nil && claimed(strings.TrimSpace(k)) {
				key = strings.TrimSpace(k)
			}
		}
		value, verr := uriDecode(p.value)
		if claimed(key) && verr != nil {
			return nil, valueError(key, p.value, ErrSyntax, "invalid %-escape in ")
		}
		if ours, err := c.take(key, value); ours {
			if err != nil {
				return nil, err
			}
			continue
		}
		rest += sep + dsn[p.start:p.end]
		sep = "&"
		if verr == nil {
			if key == "sslmode" {
				c.sawSSLMode(key, value, value)
			}
			c.handed(key, key, value)
		}
	}
	return c.finish(FormURL, rest)
}

// urlHostUser returns the first host, the user, the database and the
// password of a URL that url.Parse reads, as pgx reads them; "" for none.
func urlHostUser(base string) (host, user, dbname, password string) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "", "", ""
	}
	password, _ = u.User.Password()
	return firstHost(u.Host), u.User.Username(), strings.TrimPrefix(u.Path, "/"), password
}

// firstHost returns the first host of a comma-separated list of hosts,
// each with an optional port, without its port or brackets; a socket's
// directory whole.
func firstHost(hosts string) string {
	h, _, _ := strings.Cut(hosts, ",")
	if localSocket(h) {
		return h
	}
	if strings.HasPrefix(h, "[") {
		h, _, _ = strings.Cut(h[1:], "]")
		return h
	}
	h, _, _ = strings.Cut(h, ":")
	return h
}

// splitURL splits a postgres:// URL into what comes before its query, and
// the query's parameters, between '&', with keys and values as written
// (still %-escaped). Read strictly, the query is all that follows the
// first '?', as pgx and libpq read it: they know no fragments, and a '#' is
// part of a query parameter (lib/pq, which reads URLs with url.Parse, ends
// the query at a '#'). A URL that url.Parse refuses is refused.
//
// Read leniently, for [Redact], it never fails, and a password in the user
// info may hold any byte: the query starts at the first '?' or '&' after
// the user info's last '@' (see [lenientUserinfo]), and a parameter
// without '=' is left out.
func splitURL(dsn string, lenient bool) (base string, params []pair, err error) {
	q := strings.IndexByte(dsn, '?')
	if lenient {
		_, from := lenientUserinfo(dsn)
		from++ // past the '@'
		if q = strings.IndexAny(dsn[from:], "?&"); q >= 0 {
			q += from
		}
	} else {
		if queryInUserinfo(dsn) {
			// pgx would take the '?' as part of the user info, lib/pq and
			// we as the start of the query: the two would not even agree on
			// the host. Checked first: url.Parse's complaint would not say
			// why.
			return "", nil, malformed(FormURL, `a "?" before the "@" that ends the user info; write it as %3F`)
		}
		// url.Parse refuses control characters, but not after a '#'. To
		// us that is still the query, and stripping a key there can move
		// them before the '#': refuse them anywhere.
		if strings.ContainsFunc(dsn, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return "", nil, malformed(FormURL, "a control character; write it %-escaped")
		}
		// lib/pq reads URLs with url.Parse: refuse what it refuses.
		if _, err := url.Parse(dsn); err != nil {
			msg := urlErrorText(err)
			if _, after, _ := strings.Cut(dsn, "://"); strings.Contains(after, "@") {
				msg += "; if the user name or password holds a '@', ':', '/', '?', '#' or '%', %-encode it (%40, %3A, %2F, %3F, %23, %25)"
			}
			return "", nil, malformed(FormURL, msg)
		}
	}
	if q < 0 {
		return dsn, nil, nil
	}
	for _, p := range splitQuery(dsn, q+1, "&") {
		if p.hasEq() || !lenient {
			params = append(params, p)
		}
	}
	return dsn[:q], params, nil
}

// splitQuery splits dsn[from:] into the parameters of a query, between
// any of the bytes of seps: "&" in a URL, ";&" in a JDBC URL. Keys and
// values are as written (still %-escaped); a parameter without '=' is a
// key with an empty value.
func splitQuery(dsn string, from int, seps string) []pair {
	var params []pair
	for i := from; ; i++ { // i++ skips the separator
		end := len(dsn)
		if j := strings.IndexAny(dsn[i:], seps); j >= 0 {
			end = i + j
		}
		key, value, _ := strings.Cut(dsn[i:end], "=")
		params = append(params, pair{key: key, value: value, start: i, valStart: end - len(value), end: end})
		if i = end; i == len(dsn) {
			return params
		}
	}
}

// hasEq reports whether a query parameter was written with an '='.
func (p pair) hasEq() bool { return p.valStart > p.start+len(p.key) }

// lenientUserinfo returns the bounds of the user info of a URL as [Redact]
// reads it, so that a password may hold a raw '/', '?', '#' or '@': from
// after "://" to the last '@' (at); at is start-1 without an '@'.
func lenientUserinfo(dsn string) (start, at int) {
	start = strings.Index(dsn, "://") + len("://")
	return start, start + strings.LastIndexByte(dsn[start:], '@')
}

// queryInUserinfo reports whether a '?' comes before the '@' that, for
// pgx and libpq, ends the user info: the first '@' before any '/'.
func queryInUserinfo(dsn string) bool {
	_, rest, _ := strings.Cut(dsn, "://")
	userinfo, _, found := strings.Cut(rest, "@")
	return found && strings.IndexByte(userinfo, '/') < 0 && strings.IndexByte(userinfo, '?') >= 0
}

// uriDecode reads a query key or value as pgx and libpq do: the spaces
// around it dropped, %-escapes decoded, a '+' left as it is.
func uriDecode(s string) (string, error) {
	return url.PathUnescape(strings.Trim(s, " "))
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

// localSocket reports whether pgx reads host as the directory of a Unix
// socket: a path from '/', or from a drive letter as in `C:\` (pgconn's
// isAbsolutePath).
func localSocket(host string) bool {
	return strings.HasPrefix(host, "/") ||
		len(host) >= 3 && 'A' <= host[0] && host[0] <= 'Z' && host[1] == ':' && host[2] == '\\'
}
