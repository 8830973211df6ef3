package dsnparse

import "strings"

// The lexical pieces the tokenizers of the DSN forms share.

// pair is one key=value of a DSN as a tokenizer reads it.
type pair struct {
	key, value string
	// The pair is dsn[start:end] as written, its value dsn[valStart:end].
	start, valStart, end int
	// A tokenizer reading leniently, for [Redact], marks what breaks its
	// form's grammar instead of failing: badKey a pair that is no
	// key=value (a stray word, a key that cannot be one), which may be a
	// piece of a password; badValue a value that does not end as its form
	// wants (an unterminated quote or brace, text after a closing brace,
	// white space other than ASCII), which may have run on into one.
	badKey, badValue bool
	// file, section and line say where in odbc.ini a pair of a data
	// source was written.
	file, section string
	line          int
}

// broken handles a break of form's grammar: read strictly, it is an error
// that says so; read leniently, flag is set and reading goes on.
func broken(lenient bool, flag *bool, form Form, msg string) error {
	if lenient {
		*flag = true
		return nil
	}
	return malformed(form, msg)
}

// located adds the pair's odbc.ini file and section to a ParseError.
func (p pair) located(err error) error {
	if pe, ok := err.(*ParseError); ok && p.file != "" {
		pe.File, pe.Section = p.file, p.section
	}
	return err
}

// isSpace reports whether b is white space as libpq's isspace takes it:
// ' ', or one of '\t', '\n', '\v', '\f', '\r'.
func isSpace(b byte) bool {
	return b == ' ' || '\t' <= b && b <= '\r'
}

// skipSpace returns the index of the first byte at or after i in s that
// is not white space, or len(s).
func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// indexFrom returns the index of the first c at or after i in s, or len(s).
func indexFrom(s string, i int, c byte) int {
	if j := strings.IndexByte(s[i:], c); j >= 0 {
		return i + j
	}
	return len(s)
}

// asciiLower lower-cases the ASCII letters of s and leaves every other
// byte as it is. DSN keys match in ASCII case only (the KELVIN SIGN is no
// 'k'), and unlike strings.ToLower it keeps the length of invalid UTF-8.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// keyBytes are the bytes a key can be made of, one that can be passed on
// as a libpq key or a server run-time parameter.
const keyBytes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

func isKeyByte(b byte) bool { return strings.IndexByte(keyBytes, b) >= 0 }

func isParamName(key string) bool { return key != "" && strings.Trim(key, keyBytes) == "" }

// readQuoted reads the libpq value in single quotes that starts at s[i],
// a backslash escaping the next byte. It returns the value unescaped and
// the index past the closing quote, or len(s) when there is none.
func readQuoted(s string, i int) (value string, end int, closed bool) {
	from := i + 1
	for i = from; i < len(s) && s[i] != '\''; i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
	}
	if i == len(s) {
		return unescape(s[from:]), len(s), false
	}
	return unescape(s[from:i]), i + 1, true
}

// readBraced reads the ODBC value in braces that starts at s[i], "}}"
// standing for '}'. It returns the value and the index past the closing
// brace, or len(s) when there is none.
func readBraced(s string, i int) (value string, end int, closed bool) {
	from := i + 1
	for i = from; i < len(s); i++ {
		if s[i] != '}' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '}' {
			i++
			continue
		}
		return strings.ReplaceAll(s[from:i], "}}", "}"), i + 1, true
	}
	return strings.ReplaceAll(s[from:], "}}", "}"), len(s), false
}

// unescape drops the backslash before each escaped byte of a libpq value.
func unescape(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// libpqValue returns v as a libpq value: as it is if it is plain
// (printable ASCII, no white space, quote, backslash or ';'), which libpq,
// pgx and lib/pq all read alike, else quoted. A ';' in the first value
// would make the DSN look like an ODBC one.
func libpqValue(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '\'' || c == '\\' || c == ';' {
			return quote(v)
		}
	}
	if v == "" {
		return "''"
	}
	return v
}

// quote returns v in single quotes, with backslashes and quotes escaped.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
