package iam

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// What the browser plugins share: the state and PKCE verifier, their
// steps, and reading an identity provider's JSON answer.

// Amazon's defaults for the browser plugins: idp_response_timeout 120 s
// (JDBC m_idp_response_timeout, ODBC IAM_DEFAULT_BROWSER_PLUGIN_TIMEOUT,
// redshift_connector idp_response_timeout); listen_port 7890 for
// BrowserIdcAuthPlugin and BrowserSamlCredentialsProvider (JDBC
// m_listen_port, ODBC IAM_DEFAULT_LISTEN_PORT).
const (
	defaultResponseTimeout = 120 * time.Second
	defaultListenPort      = 7890
)

// Step names of the browser plugins, as their errors and Steps name them.
const (
	stepBrowser        = "browser sign-in"
	stepAzureToken     = "Azure AD token endpoint"
	stepRegisterClient = "SSO-OIDC RegisterClient"
	stepCreateToken    = "SSO-OIDC CreateToken"
)

// maxAnswer is the most read of an identity provider's JSON answer.
const maxAnswer = 1 << 20

// randomString is n random bytes, base64url: a state (RFC 6749 section
// 10.12) or a PKCE code verifier (RFC 7636 section 4.1: 60 bytes give 80
// characters, as JDBC's generateCodeVerifier).
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// readJSON decodes the JSON answer resp into v, reading at most
// maxAnswer bytes. An answer that is not JSON (a sign-in page where the
// API was expected) or too long is an error that shows none of it.
func readJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode/100 == 3 {
		return fmt.Errorf("answered HTTP %d, a redirect (to %s), which is not followed", resp.StatusCode, shownHost(resp.Header.Get("Location")))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("answered HTTP %d with %s, not JSON", resp.StatusCode, strconv.Quote(mt))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxAnswer {
		return fmt.Errorf("answered HTTP %d with more than %d bytes", resp.StatusCode, maxAnswer)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("answered HTTP %d with JSON that does not decode", resp.StatusCode)
	}
	return nil
}

// shownHost is the scheme and host of a URL, without its path and query,
// which may hold a code.
func shownHost(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "a URL on the same host"
	}
	return strconv.Quote(p.Scheme + "://" + p.Host)
}

// idpClient is the HTTP client of the identity provider's token
// endpoints: it follows no redirect (a token endpoint does not redirect;
// one that does may be a sign-in page or another host).
var idpClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// responseTimeout is idp_response_timeout, 0 taken as Amazon's default.
func responseTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultResponseTimeout
	}
	return d
}

// pkceChallenge is the S256 code challenge of verifier (RFC 7636 section
// 4.2), as JDBC generateCodeChallenge makes it.
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwtExpiry is the exp claim of a JWT (RFC 7519 section 4.1.4), read
// without checking the signature (the server checks it), or zero.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err != nil || json.Unmarshal(b, &c) != nil || c.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}
