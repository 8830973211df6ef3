//go:build linux

package harness

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// GetIdentityCenterAuthToken, as the fake answers it: redshift's in the
// AWS Query protocol (Action=GetIdentityCenterAuthToken, Version
// 2012-12-01, the clusters as ClusterIds.ClusterIdentifier.N; an XML
// answer with Token and ExpirationTime), redshift-serverless's in JSON 1.1
// (X-Amz-Target RedshiftServerless.GetIdentityCenterAuthToken, body
// {"workgroupNames": [...]}, answer {"token", "expirationTime"}, the time
// in RFC 3339 as the model's date-time format wants): the shapes of aws-sdk-go-v2 service/redshift and
// service/redshiftserverless (serializers.go, deserializers.go) and
// https://docs.aws.amazon.com/redshift/latest/APIReference/API_GetIdentityCenterAuthToken.html.
// Signed requests are checked as for the other calls. The token names the
// IAM Identity Center user of the access key that signed the request
// ([AWSFake.AllowIdC]); another key is refused with AccessDenied.

// idcIdentity is what AllowIdC registered.
type idcIdentity struct {
	users map[string]string // access key id: IdC user
	sign  func(user string, exp time.Time) string
}

// AllowIdC makes GetIdentityCenterAuthToken, signed with the access key id
// keyID, answer with a token sign makes for user, valid for the fake's
// lifetime ([AWSFake.SetLifetime], else 900 s) from the fake's now.
func (f *AWSFake) AllowIdC(keyID, user string, sign func(user string, exp time.Time) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idc.users == nil {
		f.idc.users = map[string]string{}
	}
	f.idc.users[keyID], f.idc.sign = user, sign
}

// serveIdC answers GetIdentityCenterAuthToken, and reports whether api is it.
func (f *AWSFake) serveIdC(w http.ResponseWriter, api string, params url.Values, body []byte, serverless bool, reqID string) bool {
	if api != "GetIdentityCenterAuthToken" {
		return false
	}
	var targets []string
	if serverless {
		var in struct {
			WorkgroupNames []string `json:"workgroupNames"`
		}
		json.Unmarshal(body, &in)
		targets = in.WorkgroupNames
	} else {
		for i := 1; params.Has(fmt.Sprint("ClusterIds.ClusterIdentifier.", i)); i++ {
			targets = append(targets, params.Get(fmt.Sprint("ClusterIds.ClusterIdentifier.", i)))
		}
	}
	f.mu.Lock()
	user, sign, lifetime := f.idc.users[params.Get(FakeKeyParam)], f.idc.sign, f.lifetime
	f.mu.Unlock()
	switch {
	case len(targets) == 0:
		f.refuse(w, serverless, http.StatusBadRequest, map[bool]string{false: "ValidationError", true: "ValidationException"}[serverless],
			"ClusterIds or workgroupNames is required", reqID)
		return true
	case user == "":
		f.refuse(w, serverless, http.StatusForbidden, "AccessDenied", "the caller's session is not an identity-enhanced IAM role session", reqID)
		return true
	}
	if lifetime == 0 {
		lifetime = 900 * time.Second
	}
	exp := f.Now().Add(lifetime).UTC().Truncate(time.Millisecond)
	token := sign(user, exp)
	if serverless {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{"token": token, "expirationTime": exp.Format(time.RFC3339Nano)})
		return true
	}
	f.answerXML(w, api, fmt.Sprintf("<Token>%s</Token><ExpirationTime>%s</ExpirationTime>",
		xmlText(token), exp.Format("2006-01-02T15:04:05.000Z")), reqID)
	return true
}
