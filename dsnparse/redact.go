package dsnparse

import (
	"net/url"
	"sort"
	"strings"
)

// mask is what [Redact] puts in place of a secret, as pgx does.
const mask = "xxxxx"

// secretKeys are the keys, lower-cased, whose values [Redact] masks in
// every form: the password, the TLS key's passphrase, and the credentials
// an ODBC DSN may carry for IAM, an identity provider or a proxy.
var secretKeys = map[string]bool{
	"password": true, "pwd": true, "sslpassword": true,
	"proxypwd": true, "proxypassword": true,
	"secretaccesskey": true, "secret_access_key": true,
	"sessiontoken": true, "session_token": true,
	"client_secret": true, "clientsecret": true,
}

// secret is one secret found in a DSN: the bytes [start, end) as written,
// and the value they stand for once unquoted or unescaped (value), and as
// another reader would unescape them (alt: a URL query value is "a b" for
// lib/pq, "a+b" for pgx).
type secret struct {
	start, end int
	value, alt string
}

// Redact returns dsn with every secret replaced by "xxxxx": the password of
// a URL (in its userinfo or a password= parameter), the password value of
// a key=value DSN, the PWD or Password of an ODBC string (braced or not),
// and keys such as sslpassword and SecretAccessKey. The rest is left as
// written, so the result shows the host, port, database and keys.
//
// It reads what does not parse too, erring towards masking more: in a URL
// everything from the first ':' after "//" to the last '@' is masked (a
// password holding a raw '/', '?', '#' or '@' cannot be told apart
// otherwise, so an '@' after the host hides the host too), a stray word
// with no '=' in a key=value DSN or an attribute with no '=' or a bad key
// in an ODBC string is masked as a possible piece of a password, and an
// unterminated quoted or braced secret is masked to the end.
func Redact(dsn string) string {
	spans := secretSpans(dsn)
	if len(spans) == 0 {
		return dsn
	}
	var b strings.Builder
	last := 0
	for _, s := range merge(spans) {
		b.WriteString(dsn[last:s.start])
		b.WriteString(mask)
		last = s.end
	}
	b.WriteString(dsn[last:])
	return b.String()
}

// Secrets returns the secrets of dsn that [Redact] masks, each as written
// and, where it differs, as unquoted or unescaped, longest first and
// without repeats. It is for masking them in text that is not a DSN, such
// as an error message of another library that quotes part of one.
func Secrets(dsn string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range secretSpans(dsn) {
		for _, v := range []string{dsn[s.start:s.end], s.value, s.alt} {
			if v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// secretSpans finds the secrets of dsn in its form, and, as a safety net
// for a DSN taken for the wrong form, every "secretkey=value" anywhere.
func secretSpans(dsn string) []secret {
	var spans []secret
	switch detectForm(dsn) {
	case FormURL:
		spans = urlSecrets(dsn)
	case FormODBC:
		spans = odbcSecrets(dsn)
	default:
		spans = keyValueSecrets(dsn)
	}
	return append(spans, looseSecrets(dsn)...)
}

// merge sorts spans and joins those that overlap or touch.
func merge(spans []secret) []secret {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.start <= last.end {
			last.end = max(last.end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// urlSecrets finds the userinfo password and the secret query parameters
// of a postgres:// URL.
func urlSecrets(dsn string) []secret {
	var spans []secret
	i := strings.Index(dsn, "://")
	if i < 0 {
		return nil
	}
	i += len("://")
	rest := dsn[i:]
	at := strings.LastIndexByte(rest, '@')
	if at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			raw := rest[colon+1 : at]
			v, err := url.PathUnescape(raw)
			if err != nil {
				v = raw
			}
			spans = append(spans, secret{start: i + colon + 1, end: i + at, value: v})
		}
	}
	// Query parameters after the userinfo; any '?' or '&' starts one.
	q := i + at + 1
	for q < len(dsn) {
		next := strings.IndexAny(dsn[q:], "?&")
		if next < 0 {
			break
		}
		start := q + next + 1
		end := len(dsn)
		// A '#' does not end it: pgx and libpq know no fragments.
		if e := strings.IndexByte(dsn[start:], '&'); e >= 0 {
			end = start + e
		}
		q = end
		key, value, ok := strings.Cut(dsn[start:end], "=")
		if !ok {
			continue
		}
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if !secretKeys[strings.ToLower(strings.TrimSpace(key))] {
			continue
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			v = value
		}
		alt, err := uriDecode(value)
		if err != nil {
			alt = value
		}
		spans = append(spans, secret{start: end - len(value), end: end, value: v, alt: alt})
	}
	return spans
}

// keyValueSecrets reads a libpq key=value DSN as kvScanner does, but
// never fails: the values of secret keys are secrets, and so is any word
// that is not key=value.
func keyValueSecrets(s string) []secret {
	var spans []secret
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return spans
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
			// A stray word, perhaps the rest of an unquoted password.
			spans = append(spans, secret{start: start, end: start + len(key), value: key})
			continue
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		vstart := i
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
				i++
			}
			if i < len(s) {
				i++ // the closing quote
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
		if secretKeys[strings.ToLower(key)] {
			spans = append(spans, secret{start: vstart, end: i, value: v.String()})
		}
	}
}

// odbcSecrets reads an ODBC string as splitODBC does, but never fails: the
// values of secret keys are secrets, and so is any attribute without '='
// or with a key that could not be one.
func odbcSecrets(s string) []secret {
	var spans []secret
	i := 0
	for i < len(s) {
		start := i
		eq := strings.IndexAny(s[i:], "=;")
		if eq < 0 || s[i+eq] == ';' {
			end := len(s)
			if eq >= 0 {
				end = i + eq
			}
			if text := strings.TrimSpace(s[i:end]); text != "" {
				spans = append(spans, secret{start: i, end: end, value: text})
			}
			i = end + 1
			continue
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		vstart := i
		value, end := odbcValue(s, i)
		i = end + 1 // past the ';'
		switch {
		case secretKeys[strings.ToLower(key)]:
			spans = append(spans, secret{start: vstart, end: end, value: value})
		case !isParamName(key):
			spans = append(spans, secret{start: start, end: end, value: strings.TrimSpace(s[start:end])})
		}
	}
	return spans
}

// odbcValue reads the value that starts at s[i], braced ("}}" is a '}') or
// bare, and returns it with the index of the ';' that ends it (or len(s)).
// Text between a closing brace and the ';' belongs to the value's span.
func odbcValue(s string, i int) (string, int) {
	if i < len(s) && s[i] == '{' {
		var b strings.Builder
		i++
		for i < len(s) {
			if s[i] == '}' {
				if i+1 < len(s) && s[i+1] == '}' {
					b.WriteByte('}')
					i += 2
					continue
				}
				break
			}
			b.WriteByte(s[i])
			i++
		}
		end := len(s)
		if j := strings.IndexByte(s[min(i, len(s)):], ';'); j >= 0 {
			end = i + j
		}
		return b.String(), end
	}
	end := len(s)
	if j := strings.IndexByte(s[i:], ';'); j >= 0 {
		end = i + j
	}
	return strings.TrimSpace(s[i:end]), end
}

// looseSecrets finds "secretkey=value" anywhere a key could start (after a
// character that cannot be part of a key), whatever the form: a braced
// value runs to its closing brace, a quoted one to its closing quote, a
// bare one to white space, ';' or '&'. It catches secrets in a DSN that was
// taken for another form than the one it was written in.
func looseSecrets(s string) []secret {
	var spans []secret
	lower := asciiLower(s) // byte for byte, so that indexes match s
	for key := range secretKeys {
		for from := 0; ; {
			j := strings.Index(lower[from:], key)
			if j < 0 {
				break
			}
			k := from + j
			from = k + 1
			if k > 0 && isKeyByte(s[k-1]) {
				continue
			}
			i := k + len(key)
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i == len(s) || s[i] != '=' {
				continue
			}
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			vstart := i
			var value string
			switch {
			case i < len(s) && s[i] == '{':
				value, i = odbcValue(s, i)
			case i < len(s) && s[i] == '\'':
				end := i + 1
				for end < len(s) && s[end] != '\'' {
					if s[end] == '\\' {
						end++
					}
					end++
				}
				i = min(end+1, len(s))
				value = s[vstart:i]
			default:
				for i < len(s) && !isSpace(s[i]) && s[i] != ';' && s[i] != '&' {
					i++
				}
				value = s[vstart:i]
			}
			if i > vstart {
				spans = append(spans, secret{start: vstart, end: i, value: value})
			}
			from = max(from, i) // a key inside the value is masked with it
		}
	}
	return spans
}

// asciiLower lower-cases the ASCII letters of s and leaves every other byte
// as it is; unlike strings.ToLower it keeps the length of invalid UTF-8.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isKeyByte reports whether b can be part of a key name.
func isKeyByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}
