//go:build linux

package harness

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS AssumeRoleWithWebIdentity, as the fake answers it: the AWS Query
// protocol (a form-encoded POST with Action and Version 2011-06-15, an XML
// answer or ErrorResponse), unsigned, as the AWS SDK sends it (sts
// auth.go gives the operation the anonymous scheme). The token must be a
// JWT that a [FakeOIDC] registered with [AWSFake.AllowWebIdentity] signed
// (RS256), for the audience registered, not expired in the fake's time;
// the role must be one registered for that issuer. The temporary keys it
// issues are added to those the fake accepts, with their session token
// and their expiration: the Redshift calls must then be signed with them.
// See https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html.

// FakeOIDC is an OIDC issuer of the tests: it signs JWTs with its own RSA
// key, which the fake STS trusts once registered.
type FakeOIDC struct {
	// Issuer is the iss claim of its tokens.
	Issuer string
	key    *rsa.PrivateKey
}

// NewFakeOIDC returns an issuer named issuer (a URL, as STS wants).
func NewFakeOIDC(t T, issuer string) *FakeOIDC {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return &FakeOIDC{Issuer: issuer, key: key}
}

// Token returns a JWT signed by o for audience aud and subject sub, valid
// until exp, with extra claims added.
func (o *FakeOIDC) Token(aud, sub string, exp time.Time, extra map[string]any) string {
	claims := map[string]any{"iss": o.Issuer, "aud": aud, "sub": sub, "iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "fake"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, o.key, crypto.SHA256, sum[:])
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// webIdentityRole is a role the fake lets a web identity assume.
type webIdentityRole struct {
	oidc     *FakeOIDC
	audience string
}

// AllowWebIdentity lets tokens of o for audience aud assume role (an ARN)
// through AssumeRoleWithWebIdentity.
func (f *AWSFake) AllowWebIdentity(role string, o *FakeOIDC, aud string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.webRoles == nil {
		f.webRoles = map[string]webIdentityRole{}
	}
	f.webRoles[role] = webIdentityRole{o, aud}
}

// SetSTSLifetime sets how long the keys AssumeRoleWithWebIdentity issues
// are valid; 0: the request's DurationSeconds, else 3600 s.
func (f *AWSFake) SetSTSLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stsLifetime = d
}

// STSIssued returns the keys AssumeRoleWithWebIdentity last issued.
func (f *AWSFake) STSIssued() (id, secret, sessionToken string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastSTS[0], f.lastSTS[1], f.lastSTS[2]
}

// stsVersion reports whether the call names STS's API version, refusing
// it if not, as STS does.
func stsVersion(params url.Values, op string, refuse func(status int, code, msg string)) bool {
	if params.Get("Version") == "2011-06-15" {
		return true
	}
	refuse(http.StatusBadRequest, "InvalidAction", "Could not find operation "+op+" for version "+params.Get("Version"))
	return false
}

// keyLifetime is the lifetime of the keys an AssumeRole call asks for:
// DurationSeconds, 900..43200, 3600 if not given (refused if out of
// range: ok false), or the fake's STS lifetime if set.
func (f *AWSFake) keyLifetime(params url.Values, refuse func(status int, code, msg string)) (lifetime time.Duration, ok bool) {
	lifetime = 3600 * time.Second
	if d := params.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			refuse(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint")
			return 0, false
		}
		lifetime = time.Duration(n) * time.Second
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stsLifetime != 0 {
		lifetime = f.stsLifetime
	}
	return lifetime, true
}

// roleSessionName is STS's pattern for RoleSessionName.
var roleSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// serveWebIdentity answers AssumeRoleWithWebIdentity.
func (f *AWSFake) serveWebIdentity(w http.ResponseWriter, params url.Values, reqID string) {
	refuse := func(status int, code, msg string) { f.refuse(w, false, status, code, msg, reqID) }
	if !stsVersion(params, "AssumeRoleWithWebIdentity", refuse) {
		return
	}
	role, session, token := params.Get("RoleArn"), params.Get("RoleSessionName"), params.Get("WebIdentityToken")
	if !roleSessionName.MatchString(session) {
		refuse(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint")
		return
	}
	lifetime, ok := f.keyLifetime(params, refuse)
	if !ok {
		return
	}
	f.mu.Lock()
	allowed, ok := f.webRoles[role]
	f.mu.Unlock()
	now := f.Now()
	claims, err := verifyJWT(token, allowed.oidc)
	switch {
	case !ok:
		refuse(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	case err != nil:
		refuse(http.StatusBadRequest, "InvalidIdentityToken", err.Error())
		return
	case !audienceHas(claims["aud"], allowed.audience):
		refuse(http.StatusBadRequest, "InvalidIdentityToken", "Incorrect token audience")
		return
	}
	if exp, _ := claims["exp"].(float64); !now.Before(time.Unix(int64(exp), 0)) {
		refuse(http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time "+now.UTC().Format(time.RFC3339)+
			" must be before the expiration date/time")
		return
	}
	id, _ := randomHex(8)
	secret, _ := randomHex(20)
	sessionToken, _ := randomHex(32)
	id = "ASIAFAKE" + strings.ToUpper(id)
	exp := now.Add(lifetime).UTC().Truncate(time.Second)
	f.mu.Lock()
	f.keys[id] = [2]string{secret, sessionToken}
	if f.keyExpires == nil {
		f.keyExpires = map[string]time.Time{}
	}
	f.keyExpires[id] = exp
	f.lastSTS = [3]string{id, secret, sessionToken}
	f.mu.Unlock()
	sub, _ := claims["sub"].(string)
	roleName := role[strings.LastIndex(role, "/")+1:]
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
		`<SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken><Audience>%s</Audience>`+
		`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/%s/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>`+
		`<Credentials><SessionToken>%s</SessionToken><SecretAccessKey>%s</SecretAccessKey><Expiration>%s</Expiration><AccessKeyId>%s</AccessKeyId></Credentials>`+
		`<Provider>%s</Provider></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
		xmlText(sub), xmlText(allowed.audience), xmlText(roleName), xmlText(session), xmlText(session),
		sessionToken, secret, exp.Format(time.RFC3339), id, xmlText(allowed.oidc.Issuer), reqID)
}

// verifyJWT checks token's RS256 signature with o's key and its issuer,
// and returns its claims.
func verifyJWT(token string, o *FakeOIDC) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the web identity token is not a JWT")
	}
	var header map[string]any
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(h, &header) != nil || header["alg"] != "RS256" {
		return nil, fmt.Errorf("the web identity token has an unsupported header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || o == nil {
		return nil, fmt.Errorf("the web identity token's signature could not be verified")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&o.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, fmt.Errorf("the web identity token's signature could not be verified")
	}
	var claims map[string]any
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(p, &claims) != nil {
		return nil, fmt.Errorf("the web identity token's payload could not be read")
	}
	if claims["iss"] != o.Issuer {
		return nil, fmt.Errorf("the web identity token is not from the provider the role trusts")
	}
	return claims, nil
}

// audienceHas reports whether a JWT's aud claim (a string or a list) names aud.
func audienceHas(claim any, aud string) bool {
	switch v := claim.(type) {
	case string:
		return v == aud
	case []any:
		for _, a := range v {
			if a == aud {
				return true
			}
		}
	}
	return false
}
