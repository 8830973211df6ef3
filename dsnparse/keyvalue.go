package dsnparse

import (
	"strconv"
	"strings"
)

// pair is one key=value of a DSN, with the text it takes as written.
type pair struct {
	key, value string
	text       string // the pair as written
	offset     int    // where text starts in the DSN
	// file and section name the odbc.ini data source the pair came from.
	file, section string
}

// located adds the pair's odbc.ini file and section to a ParseError.
func (p pair) located(err error) error {
	if pe, ok := err.(*ParseError); ok && p.file != "" {
		pe.File, pe.Section = p.file, p.section
	}
	return err
}

// parseKeyValue strips owned keys from a libpq key=value DSN. The other
// pairs are kept as written, in their order.
func parseKeyValue(dsn string) (*DSN, error) {
	pairs, err := splitKeyValue(dsn)
	if err != nil {
		return nil, err
	}
	var (
		c    collector
		kept []string
	)
	for _, p := range pairs {
		if s, owned := Owned(p.key); owned {
			if err := c.add(s, p.key, p.value); err != nil {
				return nil, err
			}
			continue
		}
		kept = append(kept, p.text)
	}
	return &DSN{Form: FormKeyValue, Config: c.cfg, Rest: strings.Join(kept, " ")}, nil
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}

// splitKeyValue follows libpq's conninfo_parse: pairs separated by white
// space, white space allowed around '=', values bare or in single quotes,
// a backslash escaping the next character in either.
func splitKeyValue(s string) ([]pair, error) {
	pairs := make([]pair, 0, strings.Count(s, "="))
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return pairs, nil
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
			return nil, malformed(FormKeyValue, `missing "=" after the word at offset `+strconv.Itoa(start))
		}
		if key == "" {
			return nil, malformed(FormKeyValue, `missing key before "=" at offset `+strconv.Itoa(i))
		}
		if !isParamName(key) {
			// The word may be a stray password; say where, not what.
			return nil, malformed(FormKeyValue, "invalid key at offset "+strconv.Itoa(start))
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
				return nil, malformed(FormKeyValue, "unterminated quoted value of key "+strconv.Quote(key))
			}
			value = unescape(s[from:i], escaped)
			i++ // the closing quote
		} else {
			from, escaped := i, false
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					escaped = true
					i++
				}
				i++
			}
			value = unescape(s[from:i], escaped)
		}
		pairs = append(pairs, pair{key: key, value: value, text: s[start:i]})
	}
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

// quoteValue writes v as a libpq value: in single quotes, with backslashes and
// single quotes escaped.
func quoteValue(v string) string {
	var b strings.Builder
	writeQuoted(&b, v)
	return b.String()
}

// writeQuoted writes v to b as quoteValue does.
func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' || v[i] == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('\'')
}
