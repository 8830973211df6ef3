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
		c          collector
		rest       = base
		sep        = "?" // before the next part kept
		host, user = urlHostUser(base)
		dbname     = urlDatabase(base)
	)
	for _, p := range params {
		key, err := uriDecode(p.key)
		if err != nil {
			return nil, malformed(FormURL, "invalid %-escape in a query key")
		}
		ours := claimed(key)
		if !ours && strings.ContainsAny(p.key, "+%") {
			// lib/pq reads a '+' as a space and trims keys once unescaped:
			// "+KeepAlive" and "%20KeepAlive" are KeepAlive to it.
			if k, err := url.QueryUnescape(p.key); err == nil {
				if k = strings.TrimSpace(k); claimed(k) {
					key, ours = k, true
				}
			}
		}
		if !ours {
			rest += sep + dsn[p.start:p.end]
			sep = "&"
			if v, err := uriDecode(p.value); err == nil {
				switch key {
				case "host":
					host = firstHost(v)
					if host == "" {
						c.emptyHost = key
					}
				case "user":
					user = v
				case "dbname":
					dbname = v
				case "sslmode":
					c.sawSSLMode(key, v, v)
				}
			}
			continue
		}
		value, err := uriDecode(p.value)
		if err != nil {
			return nil, valueError(key, p.value, ErrSyntax, "invalid %-escape in ")
		}
		if _, err := c.take(key, value); err != nil {
			return nil, err
		}
	}
	iam, err := c.finishIAM(host, user, dbname)
	if err != nil {
		return nil, err
	}
	var first []string // what IAM login adds to the query
	if iam != nil && iam.LookupEndpoint {
		first = append(first, "host="+url.QueryEscape(iam.LookupHost()))
	}
	if add, err := c.iamTLS(iam); err != nil {
		return nil, err
	} else if add {
		first = append([]string{iamDefaultTLS}, first...)
	}
	if len(first) > 0 {
		// First in the query: nothing written before it can swallow it
		// (lib/pq ends the query at a '#').
		rest = base + "?" + strings.Join(first, "&") + strings.Replace(rest[len(base):], "?", "&", 1)
	}
	return &DSN{Form: FormURL, Config: c.cfg, Rest: rest, IAM: iam}, nil
}

// urlHostUser returns the first host and the user of a URL that url.Parse
// reads, as pgx reads them; "" for none.
func urlHostUser(base string) (host, user string) {
	u, err := url.Parse(base)
	if err != nil {
		return "", ""
	}
	return firstHost(u.Host), u.User.Username()
}

// urlDatabase returns the database a URL that url.Parse reads names in
// its path, as pgx reads it; "" for none.
func urlDatabase(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
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
			return "", nil, malformed(FormURL, urlErrorText(err))
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
