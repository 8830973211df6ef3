//go:build linux

package harness

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// STS AssumeRoleWithSAML, as the fake answers it: the AWS Query protocol
// (a form-encoded POST with Action and Version 2011-06-15, an XML answer
// or ErrorResponse), unsigned, as the AWS SDK sends it (sts auth.go gives
// the operation the anonymous scheme). PrincipalArn must name a SAML
// provider registered with [AWSFake.AllowSAML]; the assertion must be
// signed by its [SAMLSigner], for SAMLAudience, not expired in the fake's
// time, and its Role attribute must pair RoleArn with PrincipalArn. The
// temporary keys it issues are added to those the fake accepts, with
// their session token and expiration. The answer and the errors are those
// of https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html
// (its example response).

// AllowSAML registers s as the SAML provider s.Principal in the fake's
// IAM: its assertions may assume the roles they name with it.
func (f *AWSFake) AllowSAML(s *SAMLSigner) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.samlIdPs == nil {
		f.samlIdPs = map[string]*SAMLSigner{}
	}
	f.samlIdPs[s.Principal] = s
}

// serveSAML answers AssumeRoleWithSAML.
func (f *AWSFake) serveSAML(w http.ResponseWriter, params url.Values, reqID string) {
	refuse := func(status int, code, msg string) { f.refuse(w, false, status, code, msg, reqID) }
	if !stsVersion(params, "AssumeRoleWithSAML", refuse) {
		return
	}
	role, principal, assertion := params.Get("RoleArn"), params.Get("PrincipalArn"), params.Get("SAMLAssertion")
	if n := len(assertion); n < 4 || n > 100000 {
		refuse(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'SAMLAssertion' failed to satisfy constraint: "+
			"Member must have length less than or equal to 100000")
		return
	}
	lifetime, ok := f.keyLifetime(params, refuse)
	if !ok {
		return
	}
	f.mu.Lock()
	signer := f.samlIdPs[principal]
	f.mu.Unlock()
	if signer == nil {
		refuse(http.StatusBadRequest, "InvalidIdentityToken", "SAML provider "+principal+" does not exist")
		return
	}
	roles, session, code, msg := signer.verify(assertion, f.Now())
	if code != "" {
		status := http.StatusBadRequest
		refuse(status, code, msg)
		return
	}
	if !slices.ContainsFunc(roles, func(v string) bool {
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return len(parts) == 2 && slices.Contains(parts, role) && slices.Contains(parts, principal)
	}) {
		refuse(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
		return
	}
	id, secret, sessionToken, exp := f.issueSTSKeys(lifetime)
	roleName := role[strings.LastIndex(role, "/")+1:]
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleWithSAMLResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithSAMLResult>`+
		`<Issuer>%s</Issuer><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/%s/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>`+
		`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`+
		`<Audience>https://signin.aws.amazon.com/saml</Audience><SubjectType>transient</SubjectType><Subject>%s</Subject>`+
		`</AssumeRoleWithSAMLResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></AssumeRoleWithSAMLResponse>`,
		xmlText(signer.Issuer), xmlText(roleName), xmlText(session), xmlText(session),
		id, secret, sessionToken, exp.Format(time.RFC3339), xmlText(session), reqID)
}

// issueSTSKeys makes temporary keys valid for lifetime in the fake's
// time, which the fake accepts from now on until they expire.
func (f *AWSFake) issueSTSKeys(lifetime time.Duration) (id, secret, sessionToken string, exp time.Time) {
	id, _ = randomHex(8)
	secret, _ = randomHex(20)
	sessionToken, _ = randomHex(32)
	id = "ASIAFAKE" + strings.ToUpper(id)
	exp = f.Now().Add(lifetime).UTC().Truncate(time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[id] = [2]string{secret, sessionToken}
	if f.keyExpires == nil {
		f.keyExpires = map[string]time.Time{}
	}
	f.keyExpires[id] = exp
	f.lastSTS = [3]string{id, secret, sessionToken}
	return id, secret, sessionToken, exp
}
