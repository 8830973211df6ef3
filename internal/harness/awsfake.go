//go:build linux

package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/jackc/pgx/v5"
)

// AWSFake is a fake of the AWS APIs an IAM login calls, on loopback
// (and GetIdentityCenterAuthToken, awsfake_idc.go):
// redshift's GetClusterCredentials and GetClusterCredentialsWithIAM (the
// AWS Query protocol: a form-encoded POST, XML answers and errors) and
// redshift-serverless GetCredentials (JSON 1.1), and STS
// AssumeRoleWithWebIdentity (awsfake_sts.go). The AWS SDK's real
// clients talk to it through the endpoint override, unchanged. It also
// answers the lookups of [AWSFake.AddCluster], [AWSFake.AddWorkgroup] and
// [AWSFake.AddDomain]: DescribeClusters, GetWorkgroup and
// DescribeCustomDomainAssociations.
//
// It checks each request's SigV4 signature against the keys it knows and
// refuses a bad one as AWS does. For each call it issues a new random
// password and sets it, with VALID UNTIL its expiration, on the role of
// the user it returns in the real PostgreSQL server, creating the role if
// need be: the server itself refuses a wrong or expired password.
//
// It keeps its own clock ([AWSFake.Now]), the wall clock moved on by
// [AWSFake.Advance]: expirations are in its time, and the server's VALID
// UNTIL follows it. A test that sets the iam package's clock to it
// (internal/clock) drives expirations and renewals instead of waiting.
type AWSFake struct {
	// URL is the endpoint, http://127.0.0.1:port (or ServerAddr, see
	// [StartAWSFakeIn]).
	URL string
	// AccessKeyID and SecretAccessKey are the keys [AWSFake.Env] puts in
	// the environment; requests signed with them, or with keys added by
	// [AWSFake.AddKey], are accepted.
	AccessKeyID, SecretAccessKey string

	pg  *Postgres
	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	keys     map[string][2]string // access key id: secret, session token
	lifetime time.Duration
	delay    time.Duration
	fail     [2]string // AWS error code and message to answer with
	calls    map[string]int
	last     [2]string // user, password last issued
	requests []url.Values
	seq      int
	password string // to issue, if set

	clusters, workgroups map[string]fakeEndpoint // see awsfake_lookup.go
	domains              map[string]string
	refused              map[string]bool
	offset               time.Duration              // of the fake's clock from the wall clock
	expires              map[string]time.Time       // per role issued, its expiration in the fake's time
	hold                 chan struct{}              // calls wait for it to close, if set
	next                 *time.Duration             // NextRefreshTime after the issue time, if set
	unset                bool                       // issue passwords without setting them on the server
	webRoles             map[string]webIdentityRole // see awsfake_sts.go
	keyExpires           map[string]time.Time       // of the keys STS issued, in the fake's time
	stsLifetime          time.Duration
	lastSTS              [3]string              // the keys STS last issued
	idc                  idcIdentity            // see awsfake_idc.go
	samlIdPs             map[string]*SAMLSigner // by principal; see awsfake_saml.go
}

// FakeRole is the IAM role GetClusterCredentialsWithIAM and
// redshift-serverless GetCredentials log in as: the user they return is
// "IAMR:" + FakeRole.
const FakeRole = "fake-role"

// StartAWSFake starts the fake for the server pg and stops it when the
// test ends. With a nil pg it issues passwords that work nowhere.
func StartAWSFake(t T, pg *Postgres) *AWSFake {
	t.Helper()
	return StartAWSFakeIn(t, pg, nil)
}

// StartAWSFakeIn is [StartAWSFake] listening in the network namespace ns
// at [ServerAddr] (a [Firewall]'s server namespace, where the firewall's
// client reaches it), or on 127.0.0.1 when ns is nil. It sets passwords on
// pg over pg's Unix-domain socket, which every namespace reaches.
func StartAWSFakeIn(t T, pg *Postgres, ns *Netns) *AWSFake {
	t.Helper()
	var ln net.Listener
	var err error
	if ns == nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	} else {
		err = ns.Do(func() error {
			ln, err = net.Listen("tcp", net.JoinHostPort(ServerAddr, "0"))
			return err
		})
	}
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	id, _ := randomHex(8)
	secret, _ := randomHex(20)
	f := &AWSFake{
		URL: "http://" + ln.Addr().String(), AccessKeyID: "AKIAFAKE" + strings.ToUpper(id), SecretAccessKey: secret,
		pg: pg, ln: ln, calls: map[string]int{}, keys: map[string][2]string{}, expires: map[string]time.Time{},
	}
	f.keys[f.AccessKeyID] = [2]string{secret, ""}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.srv.Shutdown(ctx)
	})
	return f
}

// AddKey makes the fake accept requests signed with these keys too.
func (f *AWSFake) AddKey(id, secret, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[id] = [2]string{secret, token}
}

// SetLifetime sets how long the passwords issued from now on are valid;
// 0: as long as the request's DurationSeconds, else 900 s.
func (f *AWSFake) SetLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// SetPassword makes the fake issue password from now on, in place of
// random ones; "" goes back to random ones.
func (f *AWSFake) SetPassword(password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.password = password
}

// Now is the fake's time: the wall clock moved on by every [AWSFake.Advance].
func (f *AWSFake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.offset)
}

// Advance moves the fake's clock on by d, and with it the server's VALID
// UNTIL of every role it issued a password for, so that a password whose
// expiration d passes is refused by the server from now on.
func (f *AWSFake) Advance(t T, d time.Duration) {
	t.Helper()
	f.mu.Lock()
	f.offset += d
	offset := f.offset
	expires := make(map[string]time.Time, len(f.expires))
	for role, exp := range f.expires {
		expires[role] = exp
	}
	f.mu.Unlock()
	if f.pg == nil || len(expires) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, f.pg.socketDSN())
	if err != nil {
		t.Fatalf("harness: connect to the server: %s", f.pg.redact(err.Error()))
	}
	defer conn.Close(ctx)
	for role, exp := range expires {
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s VALID UNTIL '%s'",
			pgx.Identifier{role}.Sanitize(), exp.Add(-offset).Format(time.RFC3339Nano))); err != nil {
			t.Fatalf("harness: %v", err)
		}
	}
}

// Hold makes calls wait, unanswered, until release is called (or the
// client gives up): a renewal that hangs. release may be called more than
// once.
func (f *AWSFake) Hold() (release func()) {
	h := make(chan struct{})
	f.mu.Lock()
	f.hold = h
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.hold == h {
				f.hold = nil
			}
			f.mu.Unlock()
			close(h)
		})
	}
}

// SetNextRefresh makes GetClusterCredentialsWithIAM and GetCredentials
// answer with a NextRefreshTime d after the issue time (negative: in the
// past); by default it is half the lifetime.
func (f *AWSFake) SetNextRefresh(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = &d
}

// SetUnknownToServer makes the fake issue passwords without setting them
// on the server, which then refuses the login, as a server would whose
// clock or state disagrees with AWS's; false goes back.
func (f *AWSFake) SetUnknownToServer(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unset = on
}

// SetDelay makes every call take this long before it answers.
func (f *AWSFake) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// Fail makes every later call fail with this AWS error code and message
// (AccessDenied, say); an empty code lets calls succeed again.
func (f *AWSFake) Fail(code, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = [2]string{code, message}
}

// Calls returns how many calls of api (GetClusterCredentials,
// GetClusterCredentialsWithIAM, GetCredentials) the fake answered,
// refused ones included; "" counts them all.
func (f *AWSFake) Calls(api string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if api == "" {
		n := 0
		for _, c := range f.calls {
			n += c
		}
		return n
	}
	return f.calls[api]
}

// Issued returns the user and password the fake last issued.
func (f *AWSFake) Issued() (user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last[0], f.last[1]
}

// FakeKeyParam is the parameter of [AWSFake.Requests] that holds the access
// key id a request was signed with.
const FakeKeyParam = "fake:AccessKeyID"

// Requests returns the parameters of every call, in order (the JSON body's
// fields, for GetCredentials), with the access key id it was signed with
// under FakeKeyParam.
func (f *AWSFake) Requests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.requests...)
}

// Env returns the environment that points the AWS SDK at the fake and
// nowhere else: the Redshift, Redshift Serverless and STS endpoints, the fake's keys, region
// us-east-1, shared config and credentials files in dir (empty unless the
// test writes them), and no instance metadata. Set it with t.Setenv; it
// also clears the other AWS variables.
func (f *AWSFake) Env(dir string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			env[name] = ""
		}
	}
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_ENDPOINT_URL":                       f.URL,
		"AWS_ENDPOINT_URL_REDSHIFT":              f.URL,
		"AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS":   f.URL,
		"AWS_ENDPOINT_URL_STS":                   f.URL, // the SDK's web identity chain reads no AWS_ENDPOINT_URL
		"AWS_ACCESS_KEY_ID":                      f.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":                  f.SecretAccessKey,
		"AWS_REGION":                             "us-east-1",
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_RETRY_MODE":                         "standard",
		"AWS_MAX_ATTEMPTS":                       "2",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	} {
		env[k] = v
	}
	return env
}

// ServeHTTP answers one call.
func (f *AWSFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	target := r.Header.Get("X-Amz-Target")
	serverless := target != ""
	var api string
	params := url.Values{}
	if serverless {
		api = strings.TrimPrefix(target, "RedshiftServerless.")
		var in map[string]any
		json.Unmarshal(body, &in)
		for k, v := range in {
			params.Set(k, fmt.Sprint(v))
		}
	} else {
		params, _ = url.ParseQuery(string(body))
		api = params.Get("Action")
	}
	if scope := strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="), "/"); len(scope) > 1 {
		params.Set(FakeKeyParam, scope[0])
	}
	f.mu.Lock()
	f.seq++
	reqID := fmt.Sprintf("fake-%08d-%d", f.seq, time.Now().UnixNano()%1e6)
	f.calls[api]++
	f.requests = append(f.requests, params)
	delay, fail, lifetime, fixed, hold, nextAfter, unset := f.delay, f.fail, f.lifetime, f.password, f.hold, f.next, f.unset
	f.mu.Unlock()
	w.Header().Set("X-Amzn-Requestid", reqID)
	time.Sleep(delay)
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}

	if !serverless && api == "AssumeRoleWithWebIdentity" {
		f.serveWebIdentity(w, params, reqID) // unsigned; Fail does not touch it
		return
	}
	if !serverless && api == "AssumeRoleWithSAML" {
		f.serveSAML(w, params, reqID) // unsigned; Fail does not touch it
		return
	}
	if code, msg := f.checkSignature(r, body, serverless); code != "" {
		f.refuse(w, serverless, http.StatusForbidden, code, msg, reqID)
		return
	}
	if fail[0] != "" {
		f.refuse(w, serverless, http.StatusForbidden, fail[0], fail[1], reqID)
		return
	}
	if f.serveLookup(w, api, params, serverless, reqID) || f.serveIdC(w, api, params, body, serverless, reqID) {
		return
	}
	if (api == "GetClusterCredentials" || api == "GetClusterCredentialsWithIAM" || api == "GetCredentials") &&
		f.checkTarget(w, api, params, serverless, reqID) {
		return
	}
	var user string
	switch api {
	case "GetClusterCredentials":
		if params.Get("DbUser") == "" {
			f.refuse(w, false, http.StatusBadRequest, "ValidationError", "DbUser is required", reqID)
			return
		}
		user = "IAM:" + params.Get("DbUser")
	case "GetClusterCredentialsWithIAM":
		user = "IAMR:" + FakeRole
	case "GetCredentials":
		user = "IAMR:" + FakeRole
	default:
		f.refuse(w, serverless, http.StatusBadRequest, "InvalidAction", "unknown action "+api, reqID)
		return
	}
	if lifetime == 0 {
		lifetime = 900 * time.Second
		if d := params.Get("DurationSeconds"); d != "" {
			fmt.Sscan(d, &lifetime)
			lifetime *= time.Second
		}
		if d := params.Get("durationSeconds"); d != "" {
			fmt.Sscan(d, &lifetime)
			lifetime *= time.Second
		}
	}
	password, _ := randomHex(16)
	if fixed != "" {
		password = fixed
	}
	issuedAt := f.Now()
	exp := issuedAt.Add(lifetime).UTC().Truncate(time.Millisecond)
	next := exp.Add(-lifetime / 2)
	if nextAfter != nil {
		next = issuedAt.Add(*nextAfter).UTC().Truncate(time.Millisecond)
	}
	if unset {
		// The server keeps the role's password, if any.
	} else if err := f.setRole(r.Context(), user, password, exp); err != nil {
		f.refuse(w, serverless, http.StatusInternalServerError, "InternalFailure", "fake: "+err.Error(), reqID)
		return
	}
	f.mu.Lock()
	f.last = [2]string{user, password}
	f.expires[user] = exp
	f.mu.Unlock()
	if serverless {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{
			"dbUser": user, "dbPassword": password,
			"expiration":      float64(exp.UnixMilli()) / 1000,
			"nextRefreshTime": float64(next.UnixMilli()) / 1000,
		})
		return
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, `<%sResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><%sResult>`, api, api)
	fmt.Fprintf(&out, "<DbUser>%s</DbUser><DbPassword>%s</DbPassword><Expiration>%s</Expiration>",
		xmlText(user), xmlText(password), exp.Format("2006-01-02T15:04:05.000Z"))
	if api == "GetClusterCredentialsWithIAM" {
		fmt.Fprintf(&out, "<NextRefreshTime>%s</NextRefreshTime>", next.Format("2006-01-02T15:04:05.000Z"))
	}
	fmt.Fprintf(&out, `</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, api, reqID, api)
	w.Header().Set("Content-Type", "text/xml")
	w.Write(out.Bytes())
}

// refuse answers with an AWS error in the protocol's form.
func (f *AWSFake) refuse(w http.ResponseWriter, serverless bool, status int, code, msg, reqID string) {
	if serverless {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.redshiftserverless#" + code, "message": msg})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlText(code), xmlText(msg), reqID)
}

// checkSignature recomputes the request's SigV4 signature with the AWS
// SDK's signer, over the headers it says it signed, the body and the
// time it was signed at, with the secret of its access key id; it
// returns AWS's error code and message for a bad one.
func (f *AWSFake) checkSignature(r *http.Request, body []byte, serverless bool) (code, msg string) {
	auth := r.Header.Get("Authorization")
	fields := map[string]string{}
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 {
		return "IncompleteSignature", "bad Credential"
	}
	service := "redshift"
	if serverless {
		service = "redshift-serverless"
	}
	if scope[3] != service {
		return "SignatureDoesNotMatch", "Credential should be scoped to correct service: " + service
	}
	f.mu.Lock()
	key, known := f.keys[scope[0]]
	keyExp, temporary := f.keyExpires[scope[0]]
	f.mu.Unlock()
	if temporary && !f.Now().Before(keyExp) {
		return "ExpiredToken", "The security token included in the request is expired"
	}
	if !known {
		if serverless {
			return "UnrecognizedClientException", "The security token included in the request is invalid."
		}
		return "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "IncompleteSignature", "bad X-Amz-Date"
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "IncompleteSignature", err.Error()
	}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	again.Header.Del("X-Amz-Security-Token")
	again.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: key[0], SessionToken: key[1]}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, scope[2], signedAt); err != nil {
		return "IncompleteSignature", err.Error()
	}
	if again.Header.Get("Authorization") != auth || again.Header.Get("X-Amz-Security-Token") != r.Header.Get("X-Amz-Security-Token") {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
}

// setRole makes user a login role of the server with password, valid
// until exp in the fake's time.
func (f *AWSFake) setRole(ctx context.Context, user, password string, exp time.Time) error {
	if f.pg == nil {
		return nil // a fake for tests without a server
	}
	conn, err := pgx.Connect(ctx, f.pg.socketDSN())
	if err != nil {
		return errors.New("connect to the server: " + f.pg.redact(err.Error()))
	}
	defer conn.Close(ctx)
	role := pgx.Identifier{user}.Sanitize()
	if _, err := conn.Exec(ctx, "DO $$BEGIN CREATE ROLE "+role+" LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$"); err != nil {
		return err
	}
	f.mu.Lock()
	offset := f.offset
	f.mu.Unlock()
	_, err = conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s LOGIN PASSWORD '%s' VALID UNTIL '%s'", role,
		strings.ReplaceAll(password, "'", "''"), exp.Add(-offset).Format(time.RFC3339Nano)))
	return err
}

// xmlText escapes s for XML text.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
