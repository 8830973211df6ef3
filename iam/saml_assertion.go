package iam

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// maxAssertion is the longest assertion taken, in base64 characters:
// STS's limit for AssumeRoleWithSAML's SAMLAssertion (its API reference:
// "Maximum length of 100000").
const maxAssertion = 100000

// The SAML attributes read, as Amazon's drivers name them (JDBC
// SamlCredentialsProvider.refresh and readMetadata, redshift_connector
// SamlCredentialsProvider.refresh and read_metadata).
const (
	attrRole            = "https://aws.amazon.com/SAML/Attributes/Role"
	attrRoleSessionName = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	attrDbUser          = "https://redshift.amazon.com/SAML/Attributes/DbUser"
	attrDbGroups        = "https://redshift.amazon.com/SAML/Attributes/DbGroups"
	attrAutoCreate      = "https://redshift.amazon.com/SAML/Attributes/AutoCreate"
	attrForceLowercase  = "https://redshift.amazon.com/SAML/Attributes/ForceLowercase"
	attrAllowOverride   = "https://redshift.amazon.com/SAML/Attributes/AllowDbUserOverride"
)

// The ARNs of a Role attribute value, JDBC's SAML_PROVIDER_PATTERN and
// ROLE_PATTERN (which take every partition: aws, aws-cn, aws-us-gov).
var (
	principalARN = regexp.MustCompile(`^arn:aws[-a-z]*:iam::\d*:saml-provider/\S+$`)
	roleARN      = regexp.MustCompile(`^arn:aws[-a-z]*:iam::\d*:role/\S+$`)
)

// samlRole is a role of the assertion and the IdP's principal (its SAML
// provider in IAM) that may assume it.
type samlRole struct{ role, principal string }

// samlAttributes are the assertion's attributes for the database login.
type samlAttributes struct {
	DbUser                                    string // DbUser, else RoleSessionName
	DbGroups                                  []string
	AutoCreate, ForceLowercase, AllowOverride bool
}

// samlAssertion is what the login reads from an assertion.
type samlAssertion struct {
	roles []samlRole // in the assertion's order
	attr  samlAttributes
}

// parseAssertion decodes a base64 assertion and reads its Role
// attribute's "role,principal" pairs (in either order) and Redshift's
// attributes. Its signature is STS's to check.
func parseAssertion(b64 string) (*samlAssertion, error) {
	if len(b64) > maxAssertion {
		return nil, fmt.Errorf("the SAML assertion is %d characters long, more than STS takes (%d)", len(b64), maxAssertion)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, b64))
	if err != nil {
		return nil, errors.New("the SAML assertion is not base64")
	}
	values, err := samlAttributeValues(raw)
	if err != nil {
		return nil, err
	}
	a := &samlAssertion{}
	for _, v := range values[attrRole] {
		var r samlRole
		for _, arn := range strings.Split(v, ",") {
			switch arn = strings.TrimSpace(arn); {
			case principalARN.MatchString(arn):
				r.principal = arn
			case roleARN.MatchString(arn):
				r.role = arn
			}
		}
		if r.role != "" && r.principal != "" {
			a.roles = append(a.roles, r)
		}
	}
	first := func(name string) string {
		if v := values[name]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	a.attr.DbUser = first(attrDbUser)
	if a.attr.DbUser == "" {
		a.attr.DbUser = first(attrRoleSessionName)
	}
	for _, g := range values[attrDbGroups] {
		if g = strings.TrimSpace(g); g != "" {
			a.attr.DbGroups = append(a.attr.DbGroups, g)
		}
	}
	// Java's Boolean.valueOf: "true" in any case is true.
	a.attr.AutoCreate = strings.EqualFold(first(attrAutoCreate), "true")
	a.attr.ForceLowercase = strings.EqualFold(first(attrForceLowercase), "true")
	a.attr.AllowOverride = strings.EqualFold(first(attrAllowOverride), "true")
	return a, nil
}

// samlAttributeValues returns the text of every AttributeValue of the
// document's Attribute elements, by the attribute's Name, matching
// elements by local name as JDBC's XPath does (any namespace prefix).
func samlAttributeValues(doc []byte) (map[string][]string, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	values := map[string][]string{}
	var name string  // of the Attribute we are in, if any
	var text *[]byte // of the AttributeValue we are in, if any
	var buf []byte
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errors.New("the SAML assertion is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "Attribute":
				name = ""
				for _, at := range t.Attr {
					if at.Name.Local == "Name" {
						name = at.Value
					}
				}
			case "AttributeValue":
				if name != "" {
					buf = buf[:0]
					text = &buf
				}
			}
		case xml.CharData:
			if text != nil {
				*text = append(*text, t...)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "AttributeValue":
				if text != nil {
					values[name] = append(values[name], string(*text))
					text = nil
				}
			case "Attribute":
				name = ""
			}
		}
	}
	return values, nil
}

// pick returns the role to assume and its principal: preferred_role,
// which must be in the assertion, else the assertion's first. (JDBC
// takes the first of a HashMap, ODBC IAMSamlPluginCredentialsProvider the
// first of a std::map, alphabetically, redshift_connector a random one:
// with more than one role, set preferred_role.)
func (a *samlAssertion) pick(preferred string) (role, principal string, err error) {
	if len(a.roles) == 0 {
		return "", "", errors.New("the SAML assertion has no role: its " + attrRole +
			` attribute gives no "role ARN,principal ARN" pair`)
	}
	if preferred == "" {
		return a.roles[0].role, a.roles[0].principal, nil
	}
	var names []string
	for _, r := range a.roles {
		if r.role == preferred {
			return r.role, r.principal, nil
		}
		names = append(names, r.role)
	}
	return "", "", fmt.Errorf("the SAML assertion has no role %s (preferred_role); it has %s", preferred, strings.Join(names, ", "))
}
