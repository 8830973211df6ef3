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
	var pairs []pair
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
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					v.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '\'' {
					i++
					closed = true
					break
				}
				v.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, malformed(FormKeyValue, "unterminated quoted value of key "+strconv.Quote(key))
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
				i++
			}
		}
		pairs = append(pairs, pair{key: key, value: v.String(), text: s[start:i]})
	}
}

// quoteValue writes v as a libpq value: in single quotes, with '\' and ”'
// escaped.
func quoteValue(v string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' || v[i] == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('\'')
	return b.String()
}
