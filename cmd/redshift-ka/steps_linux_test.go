//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestCheckSteps: check lists the login's steps with their outcomes, in
// text and --json: all ok; the step that failed, those before it ok and
// those after it not reached; offline, none run. JwtIamAuthPlugin's
// login is the example: STS, then GetClusterCredentials, then the server.
func TestCheckSteps(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true})
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	const role = "arn:aws:iam::123456789012:role/etl-steps"
	oidc := harness.NewFakeOIDC(t, "https://oidc.example.com/steps")
	fake.AllowWebIdentity(role, oidc, "sts.amazonaws.com")
	dsn := func(token string) string {
		return fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;sslrootcert=%s;"+
			"IAM=1;ClusterID=etl-prod;Region=us-east-1;plugin_name=JwtIamAuthPlugin;web_identity_token=%s;role_arn=%s",
			pg.Host, pg.Port, pg.Database, pg.CAFile, token, role)
	}
	good := oidc.Token("sts.amazonaws.com", "s", fake.Now().Add(time.Hour), map[string]any{"preferred_username": "steps"})
	expired := oidc.Token("sts.amazonaws.com", "s", fake.Now().Add(-time.Minute), map[string]any{"preferred_username": "steps"})
	names := []string{"STS AssumeRoleWithWebIdentity", "GetClusterCredentials", "server login"}
	for _, tc := range []struct {
		name     string
		args     []string
		outcomes []string
		code     int
	}{
		{"ok", []string{"check", dsn(good)}, []string{"ok", "ok", "ok"}, exitOK},
		{"offline", []string{"check", "--offline", dsn(good)}, []string{"not run (--offline)", "not run (--offline)", "not run (--offline)"}, exitOK},
		{"STS refuses", []string{"check", dsn(expired)}, []string{"failed", "not reached", "not reached"}, exitConnect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t.Context(), "", nil, tc.args...)
			require.Equal(t, tc.code, r.code, r.all())
			for i, name := range names {
				assert.Regexp(t, `(?m)^`+name+`  +.*  `+regexp.QuoteMeta(tc.outcomes[i])+`$`, r.stdout)
			}
			r = runCLI(t.Context(), "", nil, append([]string{tc.args[0], "--json"}, tc.args[1:]...)...)
			require.Equal(t, tc.code, r.code, r.all())
			var res struct{ Steps []stepResult }
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
			require.Len(t, res.Steps, len(names), r.stdout)
			for i, s := range res.Steps {
				assert.Equal(t, names[i], s.Name)
				assert.Equal(t, tc.outcomes[i], s.Outcome, s.Name)
				assert.Equal(t, tc.outcomes[i] == "failed", s.Error != "", s.Name)
			}
			for _, tok := range []string{good, expired} {
				assert.NotContains(t, r.all(), strings.Split(tok, ".")[1])
			}
		})
	}
}
