package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	serverside "github.com/redshift-ka/redshift-ka/outcome"
)

// TestExitFor: the exit status after a lost connection, for each answer
// the server can give (help and doc.go list them).
func TestExitFor(t *testing.T) {
	for _, tc := range []struct {
		st   serverside.Statement
		code int
		ok   bool
	}{
		{serverside.Statement{State: serverside.Finished, Result: "success"}, 5, true},
		{serverside.Statement{State: serverside.Finished, Result: "failed"}, 6, true},
		{serverside.Statement{State: serverside.Cancelled}, 6, true},
		{serverside.Statement{State: serverside.Finished}, 7, true}, // PostgreSQL: not recorded how
		{serverside.Statement{State: serverside.Running}, 3, true},
		{serverside.Statement{State: serverside.Unknown}, 3, false},
	} {
		code, ok := exitFor(tc.st)
		assert.Equal(t, tc.code, code, "%+v", tc.st)
		assert.Equal(t, tc.ok, ok, "%+v", tc.st)
	}
}
