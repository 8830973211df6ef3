//go:build linux

package integration

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// The Redshift front end's native IdP login, as Amazon's drivers show
// Redshift's side of it. The startup message names plugin_name and
// idp_type: AzureAD for BasicJwtCredentialsProvider (ODBC: JWT), with
// provider_name; AwsIdc for IdpTokenAuthPlugin, with token_type and
// identity_namespace (redshift_connector core.py Connection.__init__ and
// set_idc_plugins_params; JDBC core/v3/ConnectionFactoryImpl
// getParametersForStartup). The server answers 'R', int32 8, int32 14
// (AUTH_REQ_IDP: ConnectionFactoryImpl; ODBC src/pgclient pqcomm.h); the
// client sends 'i', int32 length (itself included), the token: JDBC and
// ODBC end it with a NUL they count (ConnectionFactoryImpl
// doAuthentication, ODBC fe-auth.c pg_fe_sendauth), redshift_connector
// does not (core.py handle_AUTHENTICATION_REQUEST, auth_code == 14); the
// front end takes both. It checks the token as a relying party checks an
// OIDC ID token (RFC 7519 section 7.2, RFC 7515 with RS256 of RFC 7518
// section 3.3): the signature, with the key the issuer publishes under
// the header's kid (a JWKS, RFC 7517), then iss, aud and exp; then lets the
// session in as the token's upn claim (Azure AD's user principal name).

// frontEndIdP is the identity provider a front end trusts.
type frontEndIdP struct {
	// JWKS is the URL where the issuer publishes its keys (RFC 7517), as
	// Redshift reads them for a provider it was told of; Issuer and
	// Audience the iss and aud a token must hold; Provider the
	// provider_name a JWT login names.
	JWKS, Issuer, Audience, Provider string

	// Accepted and Refused count tokens let in and refused; NUL counts
	// tokens that came NUL-terminated.
	Accepted, Refused, NUL atomic.Int64
	// LastUser is the user the last startup message named; LastToken
	// the last token let in.
	LastUser, LastToken atomic.Value
}

// nativeParams are the startup parameters of the native login, which
// PostgreSQL does not know: the front end takes them out.
var nativeParams = []string{"plugin_name", "idp_type", "provider_name", "token_type", "identity_namespace", "idc_client_display_name"}

// login runs the native IdP login and reports whether the session may go
// on, as the token's user; a refused token is answered 28000, as
// PostgreSQL refuses a login it will not allow.
func (idp *frontEndIdP) login(client net.Conn, be *pgproto3.Backend, startup *pgproto3.StartupMessage) bool {
	p := startup.Parameters
	idp.LastUser.Store(p["user"])
	refuse := func(code, msg string) bool {
		idp.Refused.Add(1)
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
		_ = be.Flush()
		return false
	}
	plugin := p["plugin_name"]
	if short := plugin[strings.LastIndexByte(plugin, '.')+1:]; strings.EqualFold(short, "IdpTokenAuthPlugin") || strings.EqualFold(short, "BrowserIdcAuthPlugin") {
		if p["idp_type"] != "AwsIdc" || p["token_type"] == "" {
			return refuse("28000", fmt.Sprintf("IdC login with idp_type %q and token_type %q", p["idp_type"], p["token_type"]))
		}
	} else if p["idp_type"] != "AzureAD" || p["provider_name"] != idp.Provider {
		return refuse("28000", fmt.Sprintf("native IdP login with idp_type %q and provider_name %q", p["idp_type"], p["provider_name"]))
	}
	if _, err := client.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 14}); err != nil {
		return false
	}
	var head [5]byte
	if _, err := io.ReadFull(client, head[:]); err != nil || head[0] == 'X' {
		return false // a client that does not know the request hangs up (plain pgx)
	}
	n := binary.BigEndian.Uint32(head[1:])
	if head[0] != 'i' || n < 5 || n > 64<<10 {
		return refuse("08P01", fmt.Sprintf("native IdP login answered with %q of %d bytes", head[0], n))
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(client, body); err != nil {
		return false
	}
	token, nul := strings.CutSuffix(string(body), "\x00")
	if nul {
		idp.NUL.Add(1)
	}
	user, err := idp.verify(token, time.Now())
	if err != nil {
		return refuse("28000", "invalid token: "+err.Error())
	}
	idp.Accepted.Add(1)
	idp.LastToken.Store(token)
	for _, k := range nativeParams {
		delete(p, k)
	}
	p["user"] = user
	return true
}

// verify checks a JWT and returns its upn claim.
func (idp *frontEndIdP) verify(token string, now time.Time) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	var hdr struct {
		Alg, Kid string
	}
	if err := jwtSegment(parts[0], &hdr); err != nil || hdr.Alg != "RS256" {
		return "", fmt.Errorf("want an RS256 header, got %q (%v)", hdr.Alg, err)
	}
	key, err := idp.key(hdr.Kid)
	if err != nil {
		return "", err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", errors.New("signature not base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return "", errors.New("signature does not verify with the issuer's key")
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
		Upn string          `json:"upn"`
	}
	if err := jwtSegment(parts[1], &c); err != nil {
		return "", err
	}
	var aud []string // a string or an array of them (RFC 7519 section 4.1.3)
	if json.Unmarshal(c.Aud, &aud) != nil {
		aud = []string{""}
		_ = json.Unmarshal(c.Aud, &aud[0])
	}
	switch {
	case c.Iss != idp.Issuer:
		return "", fmt.Errorf("issuer %q not trusted", c.Iss)
	case !slices.Contains(aud, idp.Audience):
		return "", fmt.Errorf("audience %q is not this provider's", aud)
	case now.Unix() >= c.Exp:
		return "", fmt.Errorf("expired at %s", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	case c.Upn == "":
		return "", errors.New("no upn claim")
	}
	return c.Upn, nil
}

func jwtSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return errors.New("JWT segment not base64url")
	}
	return json.Unmarshal(b, v)
}

// jwksClient fetches the issuer's keys: no connection kept, so none
// outlives the test.
var jwksClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// key fetches the issuer's published keys and returns the RSA key kid.
func (idp *frontEndIdP) key(kid string) (*rsa.PublicKey, error) {
	resp, err := jwksClient.Get(idp.JWKS)
	if err != nil {
		return nil, fmt.Errorf("issuer's keys: %v", err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Kid, N, E string }
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("issuer's keys: %v", err)
	}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid != kid {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			return nil, errors.New("issuer's key does not decode")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	}
	return nil, fmt.Errorf("no key %q published by the issuer", kid)
}

// testIssuer is an OIDC issuer: it signs tokens with its key and
// publishes the public half as a JWKS (RFC 7517 section 5; RSA members n
// and e of RFC 7518 section 6.3.1) at its URL.
type testIssuer struct {
	key *rsa.PrivateKey
	URL string
}

// startIssuer starts an issuer with a new key, stopped with the test.
func startIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{key: key}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "test",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	iss.URL = srv.URL + "/keys"
	return iss
}
