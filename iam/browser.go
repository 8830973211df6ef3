package iam

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// What the browser plugins share: the state and PKCE verifier, their
// steps.

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

// randomString is n random bytes, base64url: a state (RFC 6749 section
// 10.12) or a PKCE code verifier (RFC 7636 section 4.1: 60 bytes give 80
// characters, as JDBC's generateCodeVerifier).
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
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
