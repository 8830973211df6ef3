package dsnparse

import (
	"errors"
	"net/url"
	"strings"
)

// parseURL strips owned keys from the query of a postgres:// URL. The other
// query parameters are kept byte for byte, in their order.
func parseURL(dsn string) (*DSN, error) {
	if _, err := url.Parse(dsn); err != nil {
		return nil, malformed(FormURL, urlErrorText(err))
	}
	fragment := ""
	if i := strings.IndexByte(dsn, '#'); i >= 0 {
		dsn, fragment = dsn[:i], dsn[i:]
	}
	base, query, hasQuery := strings.Cut(dsn, "?")
	var (
		c    collector
		kept []string
	)
	if hasQuery {
		for _, part := range strings.Split(query, "&") {
			rawKey, rawValue, _ := strings.Cut(part, "=")
			key, err := url.QueryUnescape(rawKey)
			if err != nil {
				return nil, malformed(FormURL, "invalid %-escape in a query key")
			}
			s, owned := Owned(key)
			if !owned {
				if part != "" {
					kept = append(kept, part)
				}
				continue
			}
			value, err := url.QueryUnescape(rawValue)
			if err != nil {
				return nil, &ParseError{Key: key, Value: rawValue, Err: reason(ErrSyntax, "invalid %-escape in "+rawValue)}
			}
			if err := c.add(s, key, value); err != nil {
				return nil, err
			}
		}
	}
	rest := base
	if len(kept) > 0 || hasQuery && fragment != "" {
		// pgx does not know fragments: without the '?' it would read one
		// as part of the host.
		rest += "?" + strings.Join(kept, "&")
	}
	return &DSN{Form: FormURL, Config: c.cfg, Rest: rest + fragment}, nil
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
