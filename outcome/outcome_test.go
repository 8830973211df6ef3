package outcome

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
)

func TestString(t *testing.T) {
	end := time.Date(2026, 12, 3, 12, 4, 31, 0, time.UTC)
	for _, tc := range []struct {
		st   Statement
		want string
	}{
		{Statement{State: Running, PID: 4514, For: 35*time.Minute + 12*time.Second + 400*time.Millisecond},
			"the statement is still running on the server (process 4514, for 35m12s)"},
		{Statement{State: Finished, PID: 4514, Ended: end, Result: "success", Rows: 1234567},
			"the statement finished on the server at 12:04:31 UTC with success (1,234,567 rows)"},
		{Statement{State: Finished, PID: 4514, Ended: end, Result: "success", Rows: 1}, "the statement finished on the server at 12:04:31 UTC with success (1 row)"},
		{Statement{State: Finished, PID: 4514, Ended: end, Result: "success", Rows: -1}, "the statement finished on the server at 12:04:31 UTC with success"},
		{Statement{State: Finished, PID: 4514, Ended: end, Result: "failed", Message: "division by zero"},
			"the statement finished on the server at 12:04:31 UTC, failed: division by zero"},
		{Statement{State: Finished, PID: 4514, Ended: end, Reason: "not recorded"}, "the statement finished on the server at 12:04:31 UTC; not recorded"},
		{Statement{State: Cancelled, PID: 4514, Ended: end}, "the statement was cancelled on the server at 12:04:31 UTC (process 4514)"},
		{Statement{State: Unknown, PID: 4514, Reason: "gone"}, "what became of the statement is unknown (process 4514): gone"},
	} {
		assert.Equal(t, tc.want, tc.st.String())
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234", 100000: "100,000"} {
		assert.Equal(t, want, thousands(n), "%d", n)
	}
}

func TestSameStart(t *testing.T) {
	assert.True(t, sameStart("COPY t FROM 's3://b/'", "COPY t\n  FROM 's3://b/' CSV"))
	assert.True(t, sameStart("COPY t FROM 's3://b/' CSV", "COPY t FROM 's3://b/' CSV"))
	assert.False(t, sameStart("COPY u", "COPY t FROM 's3://b/'"))
	assert.False(t, sameStart("", "COPY t"))
}

// Of asks nothing for an error that is not a lost connection, nor for one
// without a server process id: the *sql.DB is not touched (nil here).
func TestOfWithoutAsking(t *testing.T) {
	_, err := Of(context.Background(), nil, errors.New("syntax error"), "", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a lost connection: syntax error")

	st, err := Of(context.Background(), nil, fmt.Errorf("exec: %w", &dialer.ConnLostError{Addr: "h:5439"}), "", true)
	require.NoError(t, err)
	assert.Equal(t, Unknown, st.State)
	assert.Contains(t, st.Reason, "did not tell the session's process id")
}
