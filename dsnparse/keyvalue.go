package dsnparse

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseKeyValue strips owned keys from a libpq key=value DSN. The other
// pairs are kept as written, in their order, one space apart.
func parseKeyValue(dsn string) (*DSN, error) {
	pairs, splitErr := splitKeyValue(dsn, false)
	var (
		c    collector
		rest []string
	)
	for _, p := range pairs {
		if ours, err := c.take(p.key, p.value); ours {
			if err != nil {
				return nil, err
			}
			continue
		}
		if odbcFirstKeys[asciiLower(p.key)] {
			// Meaningless to libpq (the server would refuse it), and
			// first in what is handed on it would make that look ODBC.
			return nil, &ParseError{Key: p.key, Err: reason(ErrSyntax,
				"a key only ODBC reads, in a key=value DSN; write libpq's key, or the whole DSN in the ODBC form")}
		}
		if p.key == "sslmode" {
			c.sawSSLMode(p.key, p.value, p.value)
		}
		c.handed(p.key, p.key, p.value)
		text := dsn[p.start:p.end]
		if len(rest) == 0 && detectForm(text) != FormKeyValue {
			// A bare ';' first in what is handed on would make it look
			// ODBC ("keepalives=1 a=;" leaves "a=;"): quote the value.
			text = p.key + "=" + quote(p.value)
		}
		rest = append(rest, text)
	}
	if splitErr != nil {
		return nil, splitErr
	}
	return c.finish(FormKeyValue, strings.Join(rest, " "))
}

// splitKeyValue reads a libpq key=value DSN as libpq's conninfo_parse
// does: pairs separated by white space, white space allowed around '=',
// values bare or in single quotes, a backslash escaping the next character
// in either. Errors say where, not what: a stray word may be a piece of a
// password. On an error it returns the pairs before it too, so that errors
// come in the order of the DSN. Read leniently, for [Redact], it never
// fails (see [pair]).
func splitKeyValue(s string, lenient bool) ([]pair, error) {
	var pairs []pair
	for i := skipSpace(s, 0); i < len(s); i = skipSpace(s, i) {
		p := pair{start: i}
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' {
			i++
		}
		p.key = s[p.start:i]
		var err error
		switch i = skipSpace(s, i); {
		case i == len(s) || s[i] != '=':
			if err := broken(lenient, &p.badKey, FormKeyValue, `missing "=" after the word at offset `+strconv.Itoa(p.start)); err != nil {
				return pairs, err
			}
			p.value, p.valStart, p.end = p.key, p.start, p.start+len(p.key)
			pairs = append(pairs, p)
			continue
		case p.key == "":
			err = broken(lenient, &p.badKey, FormKeyValue, `missing key before "=" at offset `+strconv.Itoa(i))
		case !isParamName(p.key):
			err = broken(lenient, &p.badKey, FormKeyValue, "invalid key at offset "+strconv.Itoa(p.start))
		}
		if err != nil {
			return pairs, err
		}
		i = skipSpace(s, i+1)
		p.valStart = i
		if i < len(s) && s[i] == '\'' {
			var closed bool
			if p.value, i, closed = readQuoted(s, i); !closed {
				err = broken(lenient, &p.badValue, FormKeyValue, "unterminated quoted value of key "+strconv.Quote(p.key))
			}
		} else {
			for ; i < len(s) && !isSpace(s[i]); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				} else if r, _ := utf8.DecodeRuneInString(s[i:]); r >= utf8.RuneSelf && unicode.IsSpace(r) && err == nil {
					// lib/pq would end the value there, pgx would not.
					err = broken(lenient, &p.badValue, FormKeyValue, "white space other than ASCII in the unquoted value of key "+
						strconv.Quote(p.key)+" at offset "+strconv.Itoa(i)+"; quote the value")
				}
			}
			p.value = unescape(s[p.valStart:i])
		}
		if err != nil {
			return pairs, err
		}
		p.end = i
		pairs = append(pairs, p)
	}
	return pairs, nil
}
