package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestScrubLateSecret: a secret learnt after a part of the command took
// its writer (exec's status line takes stdout when the statements start;
// an IAM password may be renewed later) is masked through that writer
// too, as written and as JSON escapes it; a secret that holds another is
// masked whole.
func TestScrubLateSecret(t *testing.T) {
	var out, errOut bytes.Buffer
	a := &app{ctx: context.Background(), secrets: &secrets{}}
	a.stdout, a.stderr = &scrubber{w: &out, s: a.secrets}, &scrubber{w: &errOut, s: a.secrets}
	early := a.stdout
	a.scrub("postgres://me:p%20a's%22w%23rd@h/db")
	a.scrubSecret(`late "pass"`)
	a.scrubSecret(`late "pass" word`)
	fmt.Fprintln(early, `1 late "pass" word; 2 p a'sw#rd; 3 late \"pass\" word; 4 late "pass"`)
	fmt.Fprintln(a.stderr, `p a's"w#rd`)
	assert.Equal(t, "1 xxxxx; 2 p a'sw#rd; 3 xxxxx; 4 xxxxx\n", out.String())
	assert.Equal(t, "xxxxx\n", errOut.String())
}
