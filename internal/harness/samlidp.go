//go:build linux

package harness

import (
	"crypto/tls"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FakeSAMLIdP is an identity provider's sign-in over HTTPS on loopback,
// as Amazon's ADFS and Ping plugins use it without a browser:
//
//   - ADFS: GET /adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices
//     answers the sign-in page (its forms and inputs as in ADFS's, from
//     redshift_connector test/unit/plugin/data/mock_adfs_sign_in.html) and
//     a session cookie; the form's POST, with the cookie, UserName,
//     Password and AuthMethod=FormsAuthentication, answers the page that
//     posts SAMLResponse to AWS (mock_adfs_saml_response.html), or the
//     sign-in page again with ADFS's errorText.
//   - Ping: GET /idp/startSSO.ping?PartnerSpId=urn:amazon:webservices
//     answers PingFederate's sign-in form (pf.username, pf.pass, pf.ok,
//     as JDBC's PingCredentialsProvider reads them), whose POST answers
//     the SAMLResponse page or the form again.
//
// The assertion is the [SAMLSigner]'s, of the claims set with
// [FakeSAMLIdP.SetClaims]. Its server's certificate is self-signed (CAPEM).
// SetFault makes the sign-in POST answer as a hostile IdP would.
type FakeSAMLIdP struct {
	// Host and Port are where it listens (127.0.0.1); CAPEM is its
	// certificate, to trust.
	Host  string
	Port  int
	CAPEM []byte
	// Kind is "adfs" or "ping".
	Kind string

	signer    *SAMLSigner
	srv       *http.Server
	idpFaults // for the sign-in POST

	mu                 sync.Mutex
	user, password     string
	claims             SAMLClaims
	pages, signIns     int
	partnerSPID        string
	lastUser, lastPass string
}

// StartFakeSAMLIdP starts an IdP of kind ("adfs" or "ping") that signs
// assertions with s for user and password, and stops it when the test
// ends.
func StartFakeSAMLIdP(t T, kind string, s *SAMLSigner, user, password string) *FakeSAMLIdP {
	t.Helper()
	cert, caPEM, err := SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	f := &FakeSAMLIdP{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, CAPEM: caPEM, Kind: kind,
		signer: s, user: user, password: password, partnerSPID: "urn:amazon:webservices"}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)} // TLS handshakes a test refuses
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// SetClaims sets what the assertions of a successful sign-in say.
func (f *FakeSAMLIdP) SetClaims(c SAMLClaims) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims = c
}

// SetPartnerSPID sets the PartnerSpId the Ping sign-in answers for.
func (f *FakeSAMLIdP) SetPartnerSPID(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partnerSPID = id
}

// Counts returns how many sign-in pages it served and how many sign-ins
// it was posted (refused ones included).
func (f *FakeSAMLIdP) Counts() (pages, signIns int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pages, f.signIns
}

// LastSignIn returns the user and password last posted.
func (f *FakeSAMLIdP) LastSignIn() (user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastUser, f.lastPass
}

// The cookie the sign-in page sets and its POST must bring back, as
// ADFS's MSISContext.
const samlIdPCookie = "MSISContext"

// ServeHTTP answers the sign-in pages and their POSTs.
func (f *FakeSAMLIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serveRedirected(w, r) {
		return
	}
	f.mu.Lock()
	kind, spid := f.Kind, f.partnerSPID
	f.mu.Unlock()
	var path, userField, passField string
	switch kind {
	case "adfs":
		path, userField, passField = "/adfs/ls/IdpInitiatedSignOn.aspx", "UserName", "Password"
		if r.URL.Path == path && r.URL.Query().Get("loginToRp") != "urn:amazon:webservices" {
			http.Error(w, "MSIS7012: unknown relying party", http.StatusBadRequest)
			return
		}
	case "ping":
		path, userField, passField = "/idp/startSSO.ping", "pf.username", "pf.pass"
		if r.Method == http.MethodPost {
			path = "/idp/SSO/resumeSAML20/idp/startSSO.ping"
		} else if r.URL.Query().Get("PartnerSpId") != spid {
			http.Error(w, "Unknown partner", http.StatusNotFound)
			return
		}
	}
	if r.URL.Path != path {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodGet {
		f.mu.Lock()
		f.pages++
		f.mu.Unlock()
		sid, _ := randomHex(8)
		http.SetCookie(w, &http.Cookie{Name: samlIdPCookie, Value: sid, Path: "/", Secure: true, HttpOnly: true})
		f.signInPage(w, "")
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.signIns++
	f.lastUser, f.lastPass = r.PostForm.Get(userField), r.PostForm.Get(passField)
	ok := r.PostForm.Get(userField) == f.user && r.PostForm.Get(passField) == f.password
	claims := f.claims
	f.mu.Unlock()
	if _, err := r.Cookie(samlIdPCookie); err != nil {
		http.Error(w, "MSIS7001: the sign-in has no session cookie", http.StatusBadRequest)
		return
	}
	if kind == "adfs" && r.PostForm.Get("AuthMethod") != "FormsAuthentication" {
		ok = false
	}
	switch fault := f.Fault(); fault {
	case FaultEchoPassword:
		f.signInPage(w, "The password "+r.PostForm.Get(passField)+" is not right.")
		return
	default:
		if f.serveFault(w, r, fault, "text/html; charset=utf-8") {
			return
		}
	}
	if !ok {
		f.signInPage(w, "Incorrect user ID or password. Type the correct user ID and password, and try again.")
		return
	}
	fmt.Fprintf(w, `<html><head><title>Working...</title></head><body>
<form method="POST" name="hiddenform" action="https://signin.aws.amazon.com:443/saml"><input type="hidden" name="SAMLResponse" value="%s" />
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"/></noscript>
</form>
<script language="javascript">window.setTimeout('document.forms[0].submit()', 0);</script>
</body></html>`, html.EscapeString(f.signer.Response(claims)))
}

// signInPage writes the sign-in page of the IdP's kind, with errText.
func (f *FakeSAMLIdP) signInPage(w http.ResponseWriter, errText string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if f.Kind == "ping" {
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Sign On</title></head><body>
<form method="POST" action="/idp/SSO/resumeSAML20/idp/startSSO.ping" autocomplete="off">
<div class="ping-error">%s</div>
<input id="username" type="text" size="36" name="pf.username" value="" autocorrect="off" autocapitalize="off"/>
<input id="password" type="password" size="36" name="pf.pass"/>
<input type="hidden" name="pf.ok" value="" id="ok"/>
<input type="hidden" name="pf.cancel" value="" id="cancel"/>
<input type="hidden" name="pf.adapterId" value="IdpHtmlForm"/>
<a href="#" onclick="postOk();" class="ping-button normal allow" title="Sign On">Sign On</a>
</form></body></html>`, html.EscapeString(errText))
		return
	}
	id, _ := randomHex(8)
	action := "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&client-request-id=" + id
	fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en-US"><head><meta http-equiv="content-type" content="text/html;charset=UTF-8" /><title>Sign In</title></head><body>
<form method="post" id="loginForm" autocomplete="off" novalidate="novalidate" onKeyPress="if (event &amp;&amp; event.keyCode == 13) Login.submitLoginRequest();" action="%s" >
<div id="error" class="fieldMargin error smallText"><span id="errorText" for="" aria-live="assertive" role="alert">%s</span></div>
<div id="formsAuthenticationArea">
<div id="userNameArea"><input id="userNameInput" name="UserName" type="email" value="" tabindex="1" class="text fullWidth" spellcheck="false" placeholder="someone@example.com" autocomplete="off"/></div>
<div id="passwordArea"><input id="passwordInput" name="Password" type="password" tabindex="2" class="text fullWidth" placeholder="Password" autocomplete="off"/></div>
<div id="kmsiArea" style="display:none"><input type="checkbox" name="Kmsi" id="kmsiInput" value="true" tabindex="3" /><label for="kmsiInput">Keep me signed in</label></div>
<div id="submissionArea" class="submitMargin"><span id="submitButton" class="submit" tabindex="4" role="button" onKeyPress="if (event &amp;&amp; event.keyCode == 32) Login.submitLoginRequest();" onclick="return Login.submitLoginRequest();">Sign in</span></div>
</div>
<input id="optionForms" type="hidden" name="AuthMethod" value="FormsAuthentication"/>
</form>
<form id="options" method="post" action="https://%s/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&amp;client-request-id=%s">
<input id="optionSelection" type="hidden" name="AuthMethod" />
<input id="userNameInputOptionsHolder" name="UserName" value="" type="hidden"/>
</form>
</body></html>`, html.EscapeString(action), html.EscapeString(errText), net.JoinHostPort(f.Host, strconv.Itoa(f.Port)), id)
}

// HostileSecret returns a new random secret shaped as the server's
// password ([Postgres.Password]): a space, both quotes and `#;&?%={}`
// around random hex pieces; [NoLeak] with a Postgres holding it as its
// Password finds it, or a piece of it, in any output.
func HostileSecret(t T) string {
	t.Helper()
	s, err := hostilePassword()
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return s
}
