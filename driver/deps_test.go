package driver_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoLibPQ: a program that uses the pgx driver does not link lib/pq;
// the lib/pq backend lives in driver/pq.
func TestNoLibPQ(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/redshift-ka/redshift-ka/driver").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/jackc/pgx/v5/stdlib", "the list is the driver's")
	require.NotContains(t, deps, "github.com/lib/pq")
}

// TestNoAWSSDK: programs that do not import the iam package do not link
// the AWS SDK, with either backend; the command, which imports it, does.
func TestNoAWSSDK(t *testing.T) {
	for _, pkg := range []string{"github.com/redshift-ka/redshift-ka/driver", "github.com/redshift-ka/redshift-ka/driver/pq",
		"github.com/redshift-ka/redshift-ka/settings", "github.com/redshift-ka/redshift-ka/dsnparse"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		deps := strings.Fields(string(out))
		require.Contains(t, deps, pkg, "the list is the package's")
		for _, d := range deps {
			require.False(t, strings.HasPrefix(d, "github.com/aws/"), "%s links %s", pkg, d)
		}
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/redshift-ka/redshift-ka/cmd/redshift-ka").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, strings.Fields(string(out)), "github.com/aws/aws-sdk-go-v2/service/redshift", "the command imports iam")
}

// TestNoOTel: programs that do not import otelka link no OpenTelemetry
// package; otelka links only its API, not the SDK or the Prometheus
// exporter its example uses. The command, which pushes to a collector,
// links the SDK's OTLP exporter.
func TestNoOTel(t *testing.T) {
	for _, pkg := range []string{"github.com/redshift-ka/redshift-ka/driver", "github.com/redshift-ka/redshift-ka/driver/pq",
		"github.com/redshift-ka/redshift-ka/dialer", "github.com/redshift-ka/redshift-ka/settings",
		"github.com/redshift-ka/redshift-ka/outcome", "github.com/redshift-ka/redshift-ka/iam"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		deps := strings.Fields(string(out))
		require.Contains(t, deps, pkg, "the list is the package's")
		for _, d := range deps {
			require.False(t, strings.HasPrefix(d, "go.opentelemetry.io/"), "%s links %s", pkg, d)
		}
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/redshift-ka/redshift-ka/otelka").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "go.opentelemetry.io/otel/metric")
	require.Contains(t, deps, "go.opentelemetry.io/otel/trace")
	for _, d := range deps {
		for _, no := range []string{"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters/", "github.com/prometheus/"} {
			require.False(t, strings.HasPrefix(d, no), "otelka links %s", d)
		}
	}
	out, err = exec.Command("go", "list", "-deps", "github.com/redshift-ka/redshift-ka/cmd/redshift-ka").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, strings.Fields(string(out)), "go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp", "the command pushes metrics")
}
