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
	var (
		c    collector
		rest strings.Builder
	)
	sc := kvScanner{s: dsn}
	for sc.next() {
		p := sc.pair
		if s, ok := owned(p.key); ok {
			if err := c.add(s, p.key, p.value); err != nil {
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
		text := dsn[p.start:p.end]
		switch {
		case rest.Len() > 0:
			rest.WriteString(" " + text)
		case detectForm(text) == FormKeyValue:
			rest.WriteString(text)
		default:
			// A bare ';' first in what is handed on would make it look
			// ODBC ("keepalives=1 a=;" leaves "a=;"): quote the value.
			rest.WriteString(p.key + "=" + quote(p.value))
		}
	}
	if sc.err != nil {
		return nil, sc.err
	}
	return &DSN{Form: FormKeyValue, Config: c.cfg, Rest: rest.String()}, nil
}

// kvScanner reads a libpq key=value DSN one pair at a time, as libpq's
// conninfo_parse does: pairs separated by white space, white space allowed
// around '=', values bare or in single quotes, a backslash escaping the
// next character in either. Errors say where, not what: a stray word may
// be a piece of a password.
//
// A lenient scanner, for [Redact], never fails: it marks what breaks the
// grammar in the pair it returns, and reads on.
type kvScanner struct {
	s       string // the DSN
	lenient bool
	i       int   // where the next pair may start
	pair    pair  // the pair last read
	err     error // why a strict scan stopped early; nil at the end of s
}

// next reads the next pair into sc.pair. It returns false at the end of
// the DSN or on an error, which sc.err then holds.
func (sc *kvScanner) next() bool {
	s := sc.s
	i := skipSpace(s, sc.i)
	if i == len(s) {
		return false
	}
	p := pair{start: i}
	for i < len(s) && !isSpace(s[i]) && s[i] != '=' {
		i++
	}
	p.key = s[p.start:i]
	i = skipSpace(s, i)
	switch {
	case i == len(s) || s[i] != '=':
		if sc.fail(&p.badKey, `missing "=" after the word at offset `+strconv.Itoa(p.start)) {
			return false
		}
		p.value, p.valStart, p.end = p.key, p.start, p.start+len(p.key)
		sc.pair, sc.i = p, i
		return true
	case p.key == "":
		if sc.fail(&p.badKey, `missing key before "=" at offset `+strconv.Itoa(i)) {
			return false
		}
	case !isParamName(p.key):
		if sc.fail(&p.badKey, "invalid key at offset "+strconv.Itoa(p.start)) {
			return false
		}
	}
	i = skipSpace(s, i+1)
	p.valStart = i
	if i < len(s) && s[i] == '\'' {
		var closed bool
		p.value, i, closed = readQuoted(s, i)
		if !closed && sc.fail(&p.badValue, "unterminated quoted value of key "+strconv.Quote(p.key)) {
			return false
		}
	} else {
		for ; i < len(s) && !isSpace(s[i]); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			} else if r, _ := utf8.DecodeRuneInString(s[i:]); r >= utf8.RuneSelf && unicode.IsSpace(r) &&
				// lib/pq would end the value there, pgx would not.
				sc.fail(&p.badValue, "white space other than ASCII in the unquoted value of key "+
					strconv.Quote(p.key)+" at offset "+strconv.Itoa(i)+"; quote the value") {
				return false
			}
		}
		p.value = unescape(s[p.valStart:i])
	}
	p.end = i
	sc.pair, sc.i = p, i
	return true
}

// fail handles a break of the grammar: it stops a strict scan with a
// malformed-DSN error and returns true, or marks the pair with flag and
// returns false in a lenient one.
func (sc *kvScanner) fail(flag *bool, msg string) bool {
	if sc.lenient {
		*flag = true
		return false
	}
	sc.err, sc.i = malformed(FormKeyValue, msg), len(sc.s)
	return true
}
