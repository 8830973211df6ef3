// Package htmlform reads what a login needs of an identity provider's
// HTML page: its inputs, its first form's action, and ADFS's error text.
// The SAML plugins (package iam) and the tests' browser (internal/harness)
// read pages with it.
package htmlform

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// Page is what Parse read of a page: its input elements' attributes
// (names lower-cased), the action and method of its first form that has
// an action, and the text of the element with id errorText (ADFS's).
type Page struct {
	Inputs    []map[string]string
	Action    string
	Method    string
	ErrorText string
}

// Parse reads page with HTML's tokenizer, entities decoded, as Amazon's
// drivers read it with BeautifulSoup (redshift_connector) or regular
// expressions (JDBC getInputTagsfromHTML, getFormAction).
func Parse(page []byte) Page {
	var p Page
	z := html.NewTokenizer(bytes.NewReader(page))
	inError := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			attrs := map[string]string{}
			for _, a := range t.Attr {
				attrs[strings.ToLower(a.Key)] = a.Val
			}
			switch t.Data {
			case "input":
				p.Inputs = append(p.Inputs, attrs)
			case "form":
				if p.Action == "" {
					p.Action, p.Method = attrs["action"], attrs["method"]
				}
			}
			inError = attrs["id"] == "errorText"
		case html.TextToken:
			if inError && p.ErrorText == "" {
				p.ErrorText = strings.TrimSpace(string(z.Text()))
			}
		case html.EndTagToken:
			inError = false
		}
	}
}

// Value is the value of the input named name, trimmed; "" if none.
func (p Page) Value(name string) string {
	for _, in := range p.Inputs {
		if in["name"] == name {
			return strings.TrimSpace(in["value"])
		}
	}
	return ""
}

// HasPassword reports whether the page asks for a password: a sign-in
// page, shown again after a refused password.
func (p Page) HasPassword() bool {
	for _, in := range p.Inputs {
		if strings.EqualFold(in["type"], "password") {
			return true
		}
	}
	return false
}
