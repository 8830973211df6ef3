package dsnparse

import (
	"net/url"
	"sort"
	"strings"
)

// mask is what [Redact] puts in place of a secret, as pgx does.
const mask = "xxxxx"

// secretKeys are the keys, lower-cased, whose values [Redact] masks in
// every form: the password, the TLS key's passphrase, the credentials an
// ODBC DSN may carry for an identity provider or a proxy, and the IAM and
// native-login keys that iamSpecs and nativeSpecs mark Secret.
var secretKeys = func() map[string]bool {
	keys := map[string]bool{
		"password": true, "pwd": true, "sslpassword": true,
		"proxypwd": true, "proxypassword": true,
		"client_secret": true, "clientsecret": true,
		"web_identity_token": true, "webidentitytoken": true, "token": true,
	}
	for _, spec := range append(iamSpecs[:], nativeSpecs[:]...) {
		for _, n := range spec.Names {
			if spec.Secret {
				keys[asciiLower(n)] = true
			}
		}
	}
	for _, spec := range pluginSpecs {
		for _, n := range spec.Names {
			if spec.Secret {
				keys[asciiLower(n)] = true
			}
		}
	}
	return keys
}()

// isURLKey reports whether key names a URL that may carry user info (the
// IAM EndpointUrl, StsEndpointUrl): [Redact] masks such a value whole
// when it holds an '@'.
func isURLKey(key string, value string) bool {
	i, ok := iamKeyIndex[strings.ToLower(strings.TrimSpace(key))]
	return ok && (i == iamEndpointURL || i == iamSTSEndpointURL) && strings.Contains(value, "@")
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
// the password or PWD parameter of a JDBC URL, and keys such as
// sslpassword, SecretAccessKey and SessionToken in every form. The rest is
// left as written, so the result shows the host, port, database and keys.
//
// It reads what does not parse too, erring towards masking more: in a URL
// everything from the first ':' after "//" to the last '@' is masked (a
// password holding a raw '/', '?', '#' or '@' cannot be told apart
// otherwise, so an '@' after the host hides the host too); in a JDBC URL,
// which has no user info, everything before an '@' in the host; a stray
// word or a key that cannot be one in a key=value DSN or a JDBC URL, an
// attribute with no '=' or a bad key in an ODBC string, and an
// unterminated quoted or braced value are masked as possible pieces of a
// password.
func Redact(dsn string) string {
	spans := secretSpans(dsn)
	if len(spans) == 0 {
		return dsn
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	last := 0 // where the text not yet written starts
	for i, s := range spans {
		if i > 0 && s.start <= last { // overlaps or touches the span before
			last = max(last, s.end)
			continue
		}
		b.WriteString(dsn[last:s.start] + mask)
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

// secretSpans finds the secrets of dsn with the lenient tokenizer of its
// form, and, as a safety net for a DSN taken for the wrong form, every
// "secretkey=value" anywhere.
func secretSpans(dsn string) []secret {
	var (
		spans []secret
		pairs []pair
	)
	switch detectForm(dsn) {
	case FormURL:
		if start, at := lenientUserinfo(dsn); at > start {
			if colon := strings.IndexByte(dsn[start:at], ':'); colon >= 0 {
				raw := dsn[start+colon+1 : at]
				spans = append(spans, secret{start: start + colon + 1, end: at, value: unescaped(url.PathUnescape, raw)})
			}
		}
		_, params, _ := splitURL(dsn, true)
		for _, p := range params {
			if k := unescaped(url.QueryUnescape, p.key); isSecretKey(k) || isURLKey(k, unescaped(url.QueryUnescape, p.value)) {
				spans = append(spans, secret{start: p.valStart, end: p.end,
					value: unescaped(url.QueryUnescape, p.value), alt: unescaped(uriDecode, p.value)})
			}
		}
	case FormJDBC:
		u, _ := splitJDBC(dsn, true)
		if u.userEnd > u.userStart {
			spans = append(spans, secret{start: u.userStart, end: u.userEnd, value: dsn[u.userStart:u.userEnd]})
		}
		for _, p := range u.params {
			switch {
			case p.badKey:
				spans = append(spans, secret{start: p.start, end: p.end, value: dsn[p.start:p.end]})
			case isSecretKey(p.key) || isURLKey(p.key, unescaped(url.QueryUnescape, p.value)):
				spans = append(spans, secret{start: p.valStart, end: p.end,
					value: unescaped(url.QueryUnescape, p.value), alt: unescaped(url.PathUnescape, p.value)})
			}
		}
	case FormODBC:
		pairs, _ = splitODBC(dsn, true)
	default:
		pairs, _ = splitKeyValue(dsn, true)
	}
	for _, p := range pairs {
		switch {
		case p.badKey:
			spans = append(spans, secret{start: p.start, end: p.end, value: strings.TrimSpace(dsn[p.start:p.end])})
		case p.badValue || isSecretKey(p.key) || isURLKey(p.key, p.value):
			spans = append(spans, secret{start: p.valStart, end: p.end, value: p.value})
		}
	}
	return append(spans, looseSecrets(dsn)...)
}

// isSecretKey reports whether key, in any case, is one of secretKeys.
// Unlike the keys redshift-ka owns, it folds case beyond ASCII: masking
// more is safe.
func isSecretKey(key string) bool {
	return secretKeys[strings.ToLower(strings.TrimSpace(key))]
}

// unescaped returns s unescaped, or as it is if it does not unescape.
func unescaped(unescape func(string) (string, error), s string) string {
	if u, err := unescape(s); err == nil {
		return u
	}
	return s
}

// looseSecrets finds "secretkey=value" anywhere a key could start (after a
// character that cannot be part of a key), whatever the form: a braced
// value runs to the ';' after its closing brace, a quoted one to its
// closing quote, a bare one to white space, ';' or '&'. It catches secrets
// in a DSN that was taken for another form than the one it was written in.
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
			i := skipSpace(s, k+len(key))
			if i == len(s) || s[i] != '=' {
				continue
			}
			start := skipSpace(s, i+1)
			var value string
			switch i = start; {
			case i < len(s) && s[i] == '{':
				value, i, _ = readBraced(s, i)
				i = indexFrom(s, i, ';')
			case i < len(s) && s[i] == '\'':
				value, i, _ = readQuoted(s, i)
			default:
				for i < len(s) && !isSpace(s[i]) && s[i] != ';' && s[i] != '&' {
					i++
				}
				value = s[start:i]
			}
			if i > start {
				// A bare value inside another key's braces ({x;pwd=v}) runs
				// to the closing brace: the secret is v, without it.
				spans = append(spans, secret{start: start, end: i, value: value, alt: strings.TrimRight(value, "}")})
			}
			from = max(from, i) // a key inside the value is masked with it
		}
	}
	return spans
}
