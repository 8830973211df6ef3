//go:build linux

package harness

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAML assertions, as an IdP posts them to AWS: a samlp:Response whose
// saml:Assertion carries an enveloped XML signature (RSA-SHA256, exclusive
// canonicalization), the audience urn:amazon:webservices, and the
// attributes AWS and Redshift read. The shape is AWS's "Configure SAML
// assertions for the authentication response"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml_assertions.html)
// and Redshift's "Configuring SAML assertions for your IdP"
// (https://docs.aws.amazon.com/redshift/latest/mgmt/configuring-saml-assertions.html).

// SAMLAudience is the audience AWS requires of an assertion.
const SAMLAudience = "urn:amazon:webservices"

// SAMLSigner is a SAML identity provider's signing key and certificate,
// and the ARN of the SAML provider that stands for it in IAM.
type SAMLSigner struct {
	// Issuer is the IdP's entity id, the assertion's Issuer.
	Issuer string
	// Principal is the ARN of the IdP's SAML provider in IAM
	// ("arn:aws:iam::123456789012:saml-provider/ADFS").
	Principal string
	// Now is the IdP's clock for the assertions' validity (an
	// [AWSFake]'s Now, say); nil: the wall clock.
	Now  func() time.Time
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// NewSAMLSigner returns a signer with a new RSA key and a self-signed
// certificate valid for ten years.
func NewSAMLSigner(t T, issuer, principal string) *SAMLSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: issuer},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &SAMLSigner{Issuer: issuer, Principal: principal, key: key, cert: cert}
}

// SAMLClaims are what an assertion says.
type SAMLClaims struct {
	// Roles are the Role attribute's values: a role ARN, paired with the
	// signer's Principal as "role,principal" (PrincipalFirst: the other
	// way round), or a whole value when it holds a comma.
	Roles          []string
	PrincipalFirst bool
	// Subject is the NameID; RoleSessionName the attribute AWS requires.
	Subject, RoleSessionName string
	// DbUser, DbGroups, AutoCreate, AllowDbUserOverride: Redshift's
	// attributes, left out when empty.
	DbUser              string
	DbGroups            []string
	AutoCreate          string
	AllowDbUserOverride string
	// NotOnOrAfter ends the assertion's validity; zero: an hour from now.
	NotOnOrAfter time.Time
	// Audience; empty: SAMLAudience.
	Audience string
	// Unsigned leaves the signature out.
	Unsigned bool
}

// Response returns the base64 of a SAML response carrying an assertion of
// c, signed by s unless c.Unsigned.
func (s *SAMLSigner) Response(c SAMLClaims) string {
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	if c.NotOnOrAfter.IsZero() {
		c.NotOnOrAfter = now.Add(time.Hour)
	}
	if c.Audience == "" {
		c.Audience = SAMLAudience
	}
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	id, _ := randomHex(16)
	doc := etree.NewDocument()
	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
	resp.CreateAttr("ID", "_r"+id)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", stamp(now))
	resp.CreateAttr("Destination", "https://signin.aws.amazon.com/saml")
	iss := resp.CreateElement("Issuer")
	iss.CreateAttr("xmlns", "urn:oasis:names:tc:SAML:2.0:assertion")
	iss.SetText(s.Issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")

	a := etree.NewElement("Assertion")
	a.CreateAttr("xmlns", "urn:oasis:names:tc:SAML:2.0:assertion")
	a.CreateAttr("ID", "_a"+id)
	a.CreateAttr("IssueInstant", stamp(now))
	a.CreateAttr("Version", "2.0")
	a.CreateElement("Issuer").SetText(s.Issuer)
	subj := a.CreateElement("Subject")
	nameID := subj.CreateElement("NameID")
	nameID.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
	nameID.SetText(c.Subject)
	sc := subj.CreateElement("SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", stamp(c.NotOnOrAfter))
	scd.CreateAttr("Recipient", "https://signin.aws.amazon.com/saml")
	cond := a.CreateElement("Conditions")
	cond.CreateAttr("NotBefore", stamp(now.Add(-5*time.Minute)))
	cond.CreateAttr("NotOnOrAfter", stamp(c.NotOnOrAfter))
	cond.CreateElement("AudienceRestriction").CreateElement("Audience").SetText(c.Audience)
	attrs := a.CreateElement("AttributeStatement")
	add := func(name string, values ...string) {
		if len(values) == 0 || (len(values) == 1 && values[0] == "") {
			return
		}
		at := attrs.CreateElement("Attribute")
		at.CreateAttr("Name", name)
		for _, v := range values {
			at.CreateElement("AttributeValue").SetText(v)
		}
	}
	var roles []string
	for _, r := range c.Roles {
		switch {
		case strings.Contains(r, ","):
			roles = append(roles, r)
		case c.PrincipalFirst:
			roles = append(roles, s.Principal+","+r)
		default:
			roles = append(roles, r+","+s.Principal)
		}
	}
	add("https://aws.amazon.com/SAML/Attributes/Role", roles...)
	add("https://aws.amazon.com/SAML/Attributes/RoleSessionName", c.RoleSessionName)
	add("https://redshift.amazon.com/SAML/Attributes/DbUser", c.DbUser)
	add("https://redshift.amazon.com/SAML/Attributes/DbGroups", c.DbGroups...)
	add("https://redshift.amazon.com/SAML/Attributes/AutoCreate", c.AutoCreate)
	add("https://redshift.amazon.com/SAML/Attributes/AllowDbUserOverride", c.AllowDbUserOverride)
	if !c.Unsigned {
		ctx, err := dsig.NewSigningContext(s.key, [][]byte{s.cert.Raw})
		if err == nil {
			ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
			err = ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod)
		}
		if err == nil {
			a, err = ctx.SignEnveloped(a)
		}
		if err != nil {
			panic("harness: sign a SAML assertion: " + err.Error())
		}
	}
	resp.AddChild(a)
	b, err := doc.WriteToBytes()
	if err != nil {
		panic("harness: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b)
}

// verify checks assertion (base64) as STS does: an Assertion signed by s
// (its certificate, an enveloped signature over the whole element),
// issued by s, for SAMLAudience, not expired at now; it returns the
// Role attribute's values and the RoleSessionName, or the STS error code
// and message that refuse it.
func (s *SAMLSigner) verify(assertion string, now time.Time) (roles []string, session, code, msg string) {
	invalid := func(m string) ([]string, string, string, string) { return nil, "", "InvalidIdentityToken", m }
	raw, err := base64.StdEncoding.DecodeString(assertion)
	if err != nil {
		return invalid("Invalid base64 SAML response")
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(raw) != nil || doc.Root() == nil {
		return invalid("Invalid SAML response: not well-formed XML")
	}
	el := doc.Root().FindElement("./Assertion")
	if doc.Root().Tag == "Assertion" {
		el = doc.Root()
	}
	if el == nil {
		return invalid("Invalid SAML response: no Assertion")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{s.cert}})
	signed, err := vc.Validate(el)
	if err != nil {
		return invalid("Invalid SAML response: the assertion's signature could not be verified")
	}
	if is := signed.FindElement("./Issuer"); is == nil || is.Text() != s.Issuer {
		return invalid("Invalid SAML response: the issuer is not the provider's")
	}
	if au := signed.FindElement("./Conditions/AudienceRestriction/Audience"); au == nil || au.Text() != SAMLAudience {
		return invalid("Invalid SAML response: the audience is not " + SAMLAudience)
	}
	if c := signed.FindElement("./Conditions"); c != nil {
		end, err := time.Parse(time.RFC3339, c.SelectAttrValue("NotOnOrAfter", ""))
		if err != nil || !now.Before(end) {
			return nil, "", "ExpiredTokenException", "Token expired: current date/time " + now.UTC().Format(time.RFC3339) +
				" must be before the expiration date/time"
		}
	}
	for _, at := range signed.FindElements("./AttributeStatement/Attribute") {
		var vals []string
		for _, v := range at.SelectElements("AttributeValue") {
			vals = append(vals, v.Text())
		}
		switch at.SelectAttrValue("Name", "") {
		case "https://aws.amazon.com/SAML/Attributes/Role":
			roles = vals
		case "https://aws.amazon.com/SAML/Attributes/RoleSessionName":
			if len(vals) > 0 {
				session = vals[0]
			}
		}
	}
	if session == "" {
		return invalid("Invalid SAML response: RoleSessionName is required in AuthnResponse")
	}
	return roles, session, "", ""
}
