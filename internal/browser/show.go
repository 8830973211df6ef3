package browser

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Open opens url in the user's browser, as Amazon's drivers do: on Linux
// with a display (DISPLAY or WAYLAND_DISPLAY) the first of xdg-open,
// sensible-browser, x-www-browser and gnome-open found (ODBC
// IAMBrowserAzureOAuth2CredentialsProvider.h), on macOS open, on Windows
// rundll32 url.dll,FileProtocolHandler, which is ShellExecute as ODBC's
// BrowserIdcAuthPlugin::LaunchBrowser calls it. It starts the program and
// does not wait for it. Tests replace it with an HTTP client.
var Open = openURL

// Stderr is where [Show] prints the URL when the driver has no logger.
var Stderr io.Writer = os.Stderr

// Show tells the user to log in at url: with logger at info level, else
// on [Stderr] (a person runs the program: the URL is theirs to open when
// no browser opens), and opens it with [Open]. The URL gets no token by
// itself, but it is not useless: its redirect_uri names the listener's
// port and it carries the state, so a local process that reads it can
// answer the listener and end the login (with a wrong state as well: it
// is refused either way); the code comes only from the identity
// provider. A browser that does not open is
// logged (or printed), not an error: the user may open the URL.
func Show(ctx context.Context, url, plugin string, logger *slog.Logger) {
	if logger != nil {
		logger.InfoContext(ctx, "redshift-ka: log in to Amazon Redshift in a browser", "plugin", plugin, "url", url)
	} else {
		fmt.Fprintf(Stderr, "redshift-ka: %s: log in to Amazon Redshift in a browser at:\n%s\n", plugin, url)
	}
	if err := Open(ctx, url); err != nil {
		if logger != nil {
			logger.InfoContext(ctx, "redshift-ka: no browser opened: open the URL yourself", "error", err)
		} else {
			fmt.Fprintf(Stderr, "redshift-ka: no browser opened (%v): open the URL yourself\n", err)
		}
	}
}
