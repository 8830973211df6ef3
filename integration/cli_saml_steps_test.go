//go:build linux

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestCLICheckSAMLSteps: redshift-ka check with AdfsCredentialsProvider
// and OktaCredentialsProvider shows each step of the login with its
// outcome, in text and --json: the IdP's sign-in, STS
// AssumeRoleWithSAML, GetClusterCredentials, the server login. All ok;
// offline, none run; a
// refused password fails the IdP's step (the rest not reached); an
// expired assertion fails STS's; an IdP that never answers fails its
// step at --connect-timeout. No output shows the IdP password (hostile),
// the assertion, STS's keys or the issued password.
func TestCLICheckSAMLSteps(t *testing.T) {
	f := idpSetup(t)
	bin := buildCLI(t)
	const user = "ann@corp.example"
	f.addUser(user)
	good := harness.SAMLClaims{Roles: []string{idpRole}, Subject: user, RoleSessionName: "ann", DbUser: "ann", AutoCreate: "true"}
	expired := good
	expired.NotOnOrAfter = time.Now().Add(-time.Minute)
	adfs := harness.StartFakeSAMLIdP(t, "adfs", f.signer, user, f.password)
	var mu sync.Mutex
	var assertions []string // Okta's, for the leak check
	claims := func(c harness.SAMLClaims) {
		adfs.SetClaims(c)
		f.okta.SetSAMLResponse(func(string) string {
			r := f.signer.Response(c)
			mu.Lock()
			defer mu.Unlock()
			assertions = append(assertions, r)
			return r
		})
	}
	odbc := iamForms[0]
	dsn := map[string]func(password string) string{
		"adfs": func(password string) string {
			return odbc.dsn(f.pg, map[string]string{"cluster": "etl-prod"}) + ";" + strings.Join([]string{"plugin_name=ADFS",
				"idp_host=" + adfs.Host, fmt.Sprintf("idp_port=%d", adfs.Port), "ssl_insecure=true",
				"UID=" + user, "PWD=" + harness.ODBCQuote(password)}, ";")
		},
		"okta": func(password string) string {
			return f.idpDSN(odbc, "okta", idpCreds{user, password, ""})
		},
	}
	idpStep := map[string]string{"adfs": "ADFS sign-in", "okta": "Okta authn"}
	run := func(t *testing.T, args ...string) (stdout, all string, code int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"check"}, args...)...)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return out.String(), out.String() + errOut.String(), code
	}
	const off = "not run (--offline)"
	for _, plugin := range []string{"adfs", "okta"} {
		names := []string{idpStep[plugin], "STS AssumeRoleWithSAML", "GetClusterCredentials", "server login"}
		for _, tc := range []struct {
			name     string
			password string
			claims   harness.SAMLClaims
			hostile  harness.IdPFault
			flags    []string
			outcomes []string
			err      string // in the failed step's error
		}{
			{"ok", f.password, good, harness.FaultNone, nil, []string{"ok", "ok", "ok", "ok"}, ""},
			{"wrong password", f.password + "x", good, harness.FaultNone, nil,
				[]string{"failed", "not reached", "not reached", "not reached"}, " refused the "},
			{"STS refuses", f.password, expired, harness.FaultNone, nil,
				[]string{"ok", "failed", "not reached", "not reached"}, "ExpiredTokenException"},
			{"offline", f.password, good, harness.FaultNone, []string{"--offline"}, []string{off, off, off, off}, ""},
			{"IdP silent", f.password, good, harness.FaultSilent, []string{"--connect-timeout", "2s"},
				[]string{"failed", "not reached", "not reached", "not reached"}, idpStep[plugin] + " for cluster etl-prod: context deadline exceeded"},
		} {
			if tc.hostile != harness.FaultNone && plugin != "adfs" {
				continue // the Okta fake's faults: TestIdPHostile
			}
			t.Run(plugin+"/"+tc.name, func(t *testing.T) {
				claims(tc.claims)
				adfs.SetFault(tc.hostile)
				defer adfs.SetFault(harness.FaultNone)
				gccBefore := f.aws.Calls("GetClusterCredentials")
				d := dsn[plugin](tc.password)
				want := tc.outcomes[3] == "ok" || tc.outcomes[3] == off
				stdout, all, code := run(t, append(tc.flags, d)...)
				assert.Equal(t, want, code == 0, all)
				for i, name := range names {
					assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(name)+` +.* +`+regexp.QuoteMeta(tc.outcomes[i])+`$`, stdout, all)
				}
				if tc.err != "" {
					assert.Contains(t, all, tc.err)
				} else if tc.outcomes[3] == "ok" {
					assert.Regexp(t, `(?m)^Login +IAM: `+map[string]string{"adfs": "Adfs", "okta": "Okta"}[plugin]+
						`CredentialsProvider \(STS AssumeRoleWithSAML as the assertion's role\), then GetClusterCredentials for cluster etl-prod`, stdout)
				}
				jsonOut, all2, code := run(t, append(append([]string{"--json"}, tc.flags...), d)...)
				assert.Equal(t, want, code == 0, all2)
				var res struct{ Steps []map[string]string }
				require.NoError(t, json.Unmarshal([]byte(jsonOut[strings.Index(jsonOut, "{"):]), &res), jsonOut)
				require.Len(t, res.Steps, len(names), jsonOut)
				for i, s := range res.Steps {
					assert.Equal(t, names[i], s["step"])
					assert.Equal(t, tc.outcomes[i], s["outcome"], s["step"])
					assert.Equal(t, tc.outcomes[i] == "failed", s["error"] != "", s["step"])
					if tc.outcomes[i] == "failed" {
						assert.Contains(t, s["error"], tc.err)
					}
				}
				if tc.outcomes[2] == "ok" {
					assert.Equal(t, gccBefore+2, f.aws.Calls("GetClusterCredentials"), "one call per check")
				} else {
					assert.Equal(t, gccBefore, f.aws.Calls("GetClusterCredentials"))
				}
				out := all + "\n" + all2
				t.Logf("check %s:\n%s", tc.name, all)
				f.noLeak(t, "check's output", out)
				assert.NotContains(t, out, tc.password)
				mu.Lock()
				for _, a := range assertions {
					assert.NotContains(t, out, a[len(a)/2:len(a)/2+40], "a piece of an assertion")
				}
				mu.Unlock()
				id, secret, token := f.aws.STSIssued()
				_, issued := f.aws.Issued()
				for _, s := range []string{id, secret, token, issued} {
					if s != "" {
						assert.NotContains(t, out, s)
					}
				}
			})
		}
	}
}
