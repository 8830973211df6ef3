package dsnparse

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pair is one key=value of a DSN, with the text it takes as written.
type pair struct {
	key, value string
	text       string // the pair as written
	offset     int    // where text starts in the DSN
	// file, section and line say where in odbc.ini a pair of a data
	// source was written.
	file, section string
	line          int
}

// located adds the pair's odbc.ini file and section to a ParseError.
func (p pair) located(err error) error {
	if pe, ok := err.(*ParseError); ok && p.file != "" {
		pe.File, pe.Section = p.file, p.section
	}
	return err
}

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
		if s, owned := Owned(p.key); owned {
			if err := c.add(s, p.key, p.value); err != nil {
				return nil, err
			}
			continue
		}
		if odbcFirstKeys.has(p.key) {
			// Meaningless to libpq (the server would refuse it), and
			// first in what is handed on it would make that look ODBC.
			return nil, &ParseError{Key: p.key, Err: reason(ErrSyntax,
				"a key only ODBC reads, in a key=value DSN; write libpq's key, or the whole DSN in the ODBC form")}
		}
		if rest.Len() > 0 {
			rest.WriteByte(' ')
			rest.WriteString(p.text)
			continue
		}
		rest.Grow(len(dsn) + 2)
		if detectForm(p.text) == FormKeyValue {
			rest.WriteString(p.text)
		} else {
			// A bare ';' first in what is handed on would make it look
			// ODBC ("keepalives=1 a=;" leaves "a=;"): quote the value.
			rest.WriteString(p.key)
			rest.WriteByte('=')
			writeQuoted(&rest, p.value)
		}
	}
	if sc.err != nil {
		return nil, sc.err
	}
	return &DSN{Form: FormKeyValue, Config: c.cfg, Rest: rest.String()}, nil
}

// isSpace reports whether b is white space as libpq's isspace takes it:
// ' ', or one of '\t', '\n', '\v', '\f', '\r' (9 to 13).
func isSpace(b byte) bool {
	return b == ' ' || b-'\t' <= '\r'-'\t'
}

// trimSpace is strings.TrimSpace, quicker for the common text with
// nothing to trim: one that starts and ends with ASCII other than white
// space.
func trimSpace(s string) string {
	if s != "" && s[0] < 0x80 && !isSpace(s[0]) && s[len(s)-1] < 0x80 && !isSpace(s[len(s)-1]) {
		return s
	}
	return strings.TrimSpace(s)
}

// kvScanner reads a libpq key=value DSN one pair at a time, as libpq's
// conninfo_parse does: pairs separated by white space, white space allowed
// around '=', values bare or in single quotes, a backslash escaping the
// next character in either. It keeps no list of pairs, so that reading a
// DSN allocates nothing but escaped values.
type kvScanner struct {
	s    string // the DSN
	i    int    // where the next pair may start
	pair pair   // the pair last read
	err  error  // why scanning stopped early; nil at the end of s
}

// next reads the next pair into sc.pair. It returns false at the end of
// the DSN or on an error, which sc.err then holds.
func (sc *kvScanner) next() bool {
	s, i := sc.s, sc.i
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return false
	}
	start := i
	for i < len(s) && !isSpace(s[i]) && s[i] != '=' {
		i++
	}
	key := s[start:i]
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) || s[i] != '=' {
		// The word may be a stray password; say where, not what.
		return sc.fail(malformed(FormKeyValue, `missing "=" after the word at offset `+strconv.Itoa(start)))
	}
	if key == "" {
		return sc.fail(malformed(FormKeyValue, `missing key before "=" at offset `+strconv.Itoa(i)))
	}
	if !isParamName(key) {
		// The word may be a stray password; say where, not what.
		return sc.fail(malformed(FormKeyValue, "invalid key at offset "+strconv.Itoa(start)))
	}
	i++
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	var value string
	if i < len(s) && s[i] == '\'' {
		i++
		from, escaped, closed := i, false, false
		for i < len(s) {
			if s[i] == '\\' && i+1 < len(s) {
				escaped = true
				i += 2
				continue
			}
			if s[i] == '\'' {
				closed = true
				break
			}
			i++
		}
		if !closed {
			return sc.fail(malformed(FormKeyValue, "unterminated quoted value of key "+strconv.Quote(key)))
		}
		value = unescape(s[from:i], escaped)
		i++ // the closing quote
	} else {
		from, escaped := i, false
		for i < len(s) && !isSpace(s[i]) {
			if s[i] == '\\' && i+1 < len(s) {
				escaped = true
				i++
			} else if s[i] >= utf8.RuneSelf {
				if r, _ := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
					// lib/pq would end the value there, pgx would not.
					return sc.fail(malformed(FormKeyValue, "white space other than ASCII in the unquoted value of key "+
						strconv.Quote(key)+" at offset "+strconv.Itoa(i)+"; quote the value"))
				}
			}
			i++
		}
		value = unescape(s[from:i], escaped)
	}
	sc.pair = pair{key: key, value: value, text: s[start:i], offset: start}
	sc.i = i
	return true
}

// fail stops the scan with err.
func (sc *kvScanner) fail(err error) bool {
	sc.err, sc.i = err, len(sc.s)
	return false
}

// unescape drops the backslash before each escaped character; most values
// have none and come back as they are.
func unescape(v string, escaped bool) string {
	if !escaped {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// writeValue writes v to b as a libpq value: as it is if it is plain
// (printable ASCII, no white space, quote or backslash), which libpq, pgx
// and lib/pq all read alike, else as writeQuoted does. A ';' is quoted
// too: in the first value, it would make the DSN look like an ODBC one.
func writeValue(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		if !plainByte[v[i]] {
			writeQuoted(b, v)
			return
		}
	}
	if v == "" {
		b.WriteString("''")
		return
	}
	b.WriteString(v)
}

// plainByte marks the bytes a plain value may hold.
var plainByte = func() (plain [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		plain[c] = c != '\'' && c != '\\' && c != ';'
	}
	return plain
}()

// writeQuoted writes v to b as a libpq value: in single quotes, with
// backslashes and single quotes escaped.
func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('\'')
	from := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' || v[i] == '\'' {
			b.WriteString(v[from:i])
			b.WriteByte('\\')
			from = i // the escaped byte goes out with the next chunk
		}
	}
	b.WriteString(v[from:])
	b.WriteByte('\'')
}
