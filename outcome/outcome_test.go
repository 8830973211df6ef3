package outcome

import (
	"context"
	"database/sql"
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
	st, err := Of(context.Background(), nil, errors.New("syntax error"), "", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a lost connection: syntax error")
	// Printed as it comes, the answer says so too, not "unknown (process 0): ".
	assert.Equal(t, Unknown, st.State)
	assert.Equal(t, "what became of the statement is unknown: the error is not a lost connection, so the server was not asked", st.String())
	assert.NotContains(t, fmt.Sprintln(Of(context.Background(), nil, errors.New("syntax error"), "", false)), "process 0")
	assert.Equal(t, "the server was not asked what became of the statement", Statement{}.String())

	st, err = Of(context.Background(), nil, fmt.Errorf("exec: %w", &dialer.ConnLostError{Addr: "h:5439"}), "", true)
	require.NoError(t, err)
	assert.Equal(t, Unknown, st.State)
	assert.Contains(t, st.Reason, "did not tell the session's process id")
}

// The lost statement was on the server at Sent, give or take clockSkew:
// one that started after Sent+clockSkew or ended before Sent-clockSkew
// is another; unknown times say nothing.
func TestOutcomeWindow(t *testing.T) {
	sent := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) sql.NullTime { return sql.NullTime{Time: sent.Add(d), Valid: true} }
	us := time.Microsecond
	for _, tc := range []struct {
		t                 sql.NullTime
		sent              time.Time
		after, endedFirst bool
	}{
		{at(0), sent, false, false},
		{at(clockSkew), sent, false, false},
		{at(clockSkew + us), sent, true, false},
		{at(-clockSkew), sent, false, false},
		{at(-clockSkew - us), sent, false, true},
		{at(time.Hour), time.Time{}, false, false}, // Sent unknown
		{at(-time.Hour), time.Time{}, false, false},
		{sql.NullTime{}, sent, false, false}, // NULL
	} {
		d := tc.t.Time.Sub(sent)
		assert.Equal(t, tc.after, startedAfter(tc.t, tc.sent), "startedAfter: Sent%+v", d)
		assert.Equal(t, tc.endedFirst, endedBefore(tc.t, tc.sent), "endedBefore: Sent%+v", d)
	}
}

// For comes from the server's times alone: the end, or the server's now
// while the statement runs, minus the start.
func TestOutcomeLasted(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) sql.NullTime { return sql.NullTime{Time: t0.Add(d), Valid: true} }
	null := sql.NullTime{}
	assert.Equal(t, 5*time.Second, lasted(at(0), null, at(5*time.Second)), "running")
	assert.Equal(t, 2*time.Second, lasted(at(0), at(2*time.Second), at(5*time.Second)), "ended")
	assert.Zero(t, lasted(at(0), null, at(-time.Second)), "now before the start (GETDATE is whole seconds)")
	assert.Zero(t, lasted(null, null, at(time.Second)), "start unknown")
	assert.Zero(t, lasted(at(0), null, null), "now unknown")
}
