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
