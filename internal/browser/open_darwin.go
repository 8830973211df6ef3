package browser

import (
	"context"
	"os/exec"
)

// openURL runs open(1), as ODBC's command for macOS does.
func openURL(_ context.Context, url string) error {
	return start(exec.Command("open", url))
}
