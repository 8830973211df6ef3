package browser

import (
	"context"
	"os/exec"
)

// openURL asks the shell to open url (ShellExecute, as ODBC does), through
// rundll32, which does not read '&' as cmd's start would.
func openURL(_ context.Context, url string) error {
	return start(exec.Command("rundll32", "url.dll,FileProtocolHandler", url))
}
