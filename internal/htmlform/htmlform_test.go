package htmlform

import "testing"

// TestParse: the first form's action, inputs with entities decoded and
// names lower-cased, ADFS's errorText, whatever the markup's spelling.
func TestParse(t *testing.T) {
	p := Parse([]byte(`<FORM Method=post ACTION="/adfs/ls/?a=1&amp;b=2"><Input NAME="UserName" type=email value='x'>
<input type="password" name="Password"/><input name="SAMLResponse" type="hidden" value=" PHI&#x2b;&#x3d; "/>
<span id="errorText">  Incorrect user ID or password.  </span></form><form action="/second"></form>`))
	if p.Action != "/adfs/ls/?a=1&b=2" || p.Method != "post" {
		t.Errorf("action %q method %q", p.Action, p.Method)
	}
	if len(p.Inputs) != 3 || p.Inputs[0]["name"] != "UserName" || p.Inputs[0]["value"] != "x" {
		t.Errorf("inputs %v", p.Inputs)
	}
	if got := p.Value("SAMLResponse"); got != "PHI+=" {
		t.Errorf("SAMLResponse %q", got)
	}
	if !p.HasPassword() || p.ErrorText != "Incorrect user ID or password." {
		t.Errorf("HasPassword %v, ErrorText %q", p.HasPassword(), p.ErrorText)
	}
}
